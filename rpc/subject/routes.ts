import {
  type DescMessage,
  type DescMethod,
  type DescService,
  getOption,
  hasOption,
} from "@bufbuild/protobuf";
import {
  type EventRoute,
  event,
  Party,
  route,
  type ServiceRoute,
} from "../../gen/vettid/options/v1/options_pb.js";
import { expandSubject, parseSubjectTemplate, type SubjectTemplate } from "./template.js";

/** A service's `vettid.options.v1.route` option, with its templates parsed and checked. */
export interface ResolvedServiceRoute {
  readonly service: DescService;
  /** Where the service is served; a method's subject appends `.MethodName`. */
  readonly subject: SubjectTemplate;
  /**
   * Where callers receive replies, when the schema pins it (members' forApp inbox). Its variables
   * are those of the subject plus, for calls across members, the caller's own (`{caller_guid}`).
   */
  readonly replyPrefix: SubjectTemplate | undefined;
  readonly server: Party;
  readonly callers: readonly Party[];
  readonly sealed: boolean;
  /**
   * For sealed services, the subject sealed calls travel on: the service subject with its last token
   * replaced by `sealed` (`OwnerSpace.{owner_guid}.forVault.sealed`). Service and method are inside
   * the sealed request, so relays learn neither; every sealed service of a space shares it.
   */
  readonly sealedSubject: SubjectTemplate | undefined;
  readonly summary: string;
}

/** The token that replaces a sealed service's last subject token. */
export const SEALED_SUBJECT_TOKEN = "sealed";

/** A message's `vettid.options.v1.event` option, with its templates parsed and checked. */
export interface ResolvedEventRoute {
  readonly message: DescMessage;
  readonly subjects: readonly SubjectTemplate[];
  readonly publishers: readonly Party[];
  readonly subscribers: readonly Party[];
  readonly summary: string;
}

const serviceRoutes = new WeakMap<DescService, ResolvedServiceRoute | undefined>();
const eventRoutes = new WeakMap<DescMessage, ResolvedEventRoute | undefined>();

/** The NATS route a service declares, or undefined for HTTP-only services. */
export function serviceRoute(service: DescService): ResolvedServiceRoute | undefined {
  if (!serviceRoutes.has(service)) {
    serviceRoutes.set(
      service,
      hasOption(service, route)
        ? resolveServiceRoute(service, getOption(service, route))
        : undefined,
    );
  }
  return serviceRoutes.get(service);
}

/** Like {@link serviceRoute}, but throws when the service has no NATS route. */
export function requireServiceRoute(service: DescService): ResolvedServiceRoute {
  const resolved = serviceRoute(service);
  if (resolved === undefined) {
    throw new Error(`service ${service.typeName} declares no (vettid.options.v1.route) option`);
  }
  return resolved;
}

/** The subject template of one method: the service subject followed by the method name. */
export function methodSubjectTemplate(method: DescMethod): SubjectTemplate {
  const { subject } = requireServiceRoute(method.parent);
  return parseSubjectTemplate(`${subject.source}.${method.name}`);
}

/** The concrete subject of one method for the given variable values (validated). */
export function methodSubject(
  method: DescMethod,
  values: Readonly<Record<string, string | undefined>>,
): string {
  return `${expandSubject(requireServiceRoute(method.parent).subject, values)}.${method.name}`;
}

/** The pub/sub route a message declares, or undefined when it is not published as an event. */
export function eventRoute(message: DescMessage): ResolvedEventRoute | undefined {
  if (!eventRoutes.has(message)) {
    eventRoutes.set(
      message,
      hasOption(message, event) ? resolveEventRoute(message, getOption(message, event)) : undefined,
    );
  }
  return eventRoutes.get(message);
}

function resolveServiceRoute(service: DescService, option: ServiceRoute): ResolvedServiceRoute {
  const where = `(vettid.options.v1.route) of ${service.typeName}`;
  const subject = parseSubjectTemplate(option.subject);
  const replyPrefix =
    option.replyPrefix === "" ? undefined : parseSubjectTemplate(option.replyPrefix);
  checkParties(where, "server", [option.server]);
  checkParties(where, "callers", option.callers);
  let sealedSubject: SubjectTemplate | undefined;
  if (option.sealed) {
    const last = subject.tokens.at(-1);
    if (
      subject.tokens.length < 2 ||
      last?.kind !== "literal" ||
      last.value === SEALED_SUBJECT_TOKEN
    ) {
      throw new Error(`${where}: a sealed service's subject must end in a literal area token`);
    }
    sealedSubject = parseSubjectTemplate(
      [...subject.source.split(".").slice(0, -1), SEALED_SUBJECT_TOKEN].join("."),
    );
  }
  return {
    service,
    subject,
    replyPrefix,
    server: option.server,
    callers: option.callers,
    sealed: option.sealed,
    sealedSubject,
    summary: option.summary,
  };
}

function resolveEventRoute(message: DescMessage, option: EventRoute): ResolvedEventRoute {
  const where = `(vettid.options.v1.event) of ${message.typeName}`;
  if (option.subjects.length === 0) throw new Error(`${where}: no subjects`);
  checkParties(where, "publishers", option.publishers);
  checkParties(where, "subscribers", option.subscribers);
  return {
    message,
    subjects: option.subjects.map(parseSubjectTemplate),
    publishers: option.publishers,
    subscribers: option.subscribers,
    summary: option.summary,
  };
}

function checkParties(where: string, field: string, parties: readonly Party[]): void {
  if (parties.length === 0 || parties.includes(Party.UNSPECIFIED)) {
    throw new Error(`${where}: ${field} must name at least one party and never PARTY_UNSPECIFIED`);
  }
}
