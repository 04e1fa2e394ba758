export {
  DEFAULT_REPLAY_CACHE_SIZE,
  DEFAULT_REPLAY_WINDOW_MS,
  HPKE_SUITE,
  REQUEST_INFO_LABEL,
  RESPONSE_EXPORT_LABEL,
} from "./constants.js";
export type {
  ClientSealedCall,
  RequestOpener,
  RequestOpenerOptions,
  RequestSealer,
  SealedContentInit,
  SealingKeyPair,
  ServerSealedCall,
} from "./hpke-sealing.js";
export {
  createRequestOpener,
  createRequestSealer,
  createSealingKeyPair,
  sealingKeyId,
} from "./hpke-sealing.js";
