export type { LocalBackend, LocalBackendOptions } from "./local-backend.js";
export { startLocalBackend } from "./local-backend.js";
export type { LocalDynalite, LocalDynaliteOptions } from "./local-dynalite.js";
export { startLocalDynalite } from "./local-dynalite.js";
export type { LocalStackState } from "./local-stack-state.js";
export {
  LOCAL_CONTROL_KEY_ID,
  LOCAL_STATE_FILES,
  loadOrCreateLocalStackState,
} from "./local-stack-state.js";
export type { LocalVoting, LocalVotingOptions } from "./local-voting.js";
export { createLocalVoting } from "./local-voting.js";
