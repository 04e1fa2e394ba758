/**
 * EnrollStart sessions per caller address per hour: 30. A member enrolls once, with a few retries;
 * a household or an office behind one address enrols a handful of people. Past that, an address
 * is probing invitation codes or draining enclave attestations.
 */
export const DEFAULT_ENROLL_START_PER_ADDRESS = 30;

/**
 * EnrollStart sessions per invitation code per hour: 10, so a code that leaked cannot open
 * sessions (each one an enclave attestation) in bulk, while a member's retries still get through.
 */
export const DEFAULT_ENROLL_START_PER_INVITATION = 10;

/**
 * RequestRecovery calls per member per day: 3. Each one notifies the member by email and push; a
 * stolen account sign-in must not be able to flood them.
 */
export const DEFAULT_RECOVERY_REQUESTS_PER_DAY = 3;

/** The window of the EnrollStart limits: an hour. */
export const ENROLL_START_WINDOW_MS = 60 * 60 * 1000;

/** The window of the recovery limit: a day. */
export const RECOVERY_WINDOW_MS = 24 * 60 * 60 * 1000;
