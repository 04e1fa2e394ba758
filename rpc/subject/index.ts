export type { ResolvedEventRoute, ResolvedServiceRoute } from "./routes.js";
export {
  eventRoute,
  methodSubject,
  methodSubjectTemplate,
  requireServiceRoute,
  SEALED_SUBJECT_TOKEN,
  serviceRoute,
} from "./routes.js";
export type { SubjectTemplate, SubjectTemplateToken } from "./template.js";
export {
  expandSubject,
  MAX_SUBJECT_VARIABLE_LENGTH,
  matchSubject,
  parseSubjectTemplate,
  subjectTokenProblem,
  subscriptionSubject,
} from "./template.js";
