export type { MemberStore } from "./member-store.js";
export { createMemberStore, MEMBER_KEYS } from "./member-store.js";
