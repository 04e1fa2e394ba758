export type { AdminServer, AdminServerOptions } from "./admin-server.js";
export {
  ADMIN_PAGE_PROCEDURES,
  MAX_FORWARDED_REQUEST_BYTES,
  startAdminServer,
} from "./admin-server.js";
