import type { DeviceAttestationPlatform } from "../../gen/vettid/enrollment/v1/device_pb.js";
import type { Logger } from "../logging/index.js";

/** What the member is told when a recovery starts. */
export interface RecoveryNotice {
  readonly ownerGuid: string;
  readonly recoveryId: string;
  /** The 32-byte cancel token for the notification's cancel link. Secret: never log it. */
  readonly cancelToken: Uint8Array;
  readonly availableAtMs: number;
  readonly requestingPlatform: DeviceAttestationPlatform;
}

/**
 * Tells the member at once that a recovery started (backup.proto: email to the account address
 * and a push to the registered device, both with the cancel link). Production sends through the
 * account provider and APNs/FCM; not built yet.
 */
export interface RecoveryNotifier {
  recoveryRequested(notice: RecoveryNotice): Promise<void>;
}

/**
 * The development notifier: logs that a notice would be sent (ids and times, never the cancel
 * token) and hands the notice to `deliver` when given (tests keep them to cancel with).
 */
export function createLoggingRecoveryNotifier(
  logger: Logger,
  deliver?: (notice: RecoveryNotice) => void,
): RecoveryNotifier {
  return {
    async recoveryRequested(notice) {
      logger.info("recovery.notice", {
        ownerGuid: notice.ownerGuid,
        recoveryId: notice.recoveryId,
        availableAtMs: notice.availableAtMs,
      });
      deliver?.(notice);
    },
  };
}
