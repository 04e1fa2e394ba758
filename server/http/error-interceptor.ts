import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { describeError, type Logger } from "../logging/index.js";

/**
 * Keeps internals out of answers and puts them in the log instead. A `ConnectError` a service
 * threw on purpose goes out as it is (its `cause`, never sent, is logged when the code says the
 * server failed: `internal`, `unknown`, `unavailable`, `data_loss`). Anything else is a bug: it
 * is logged with the procedure and answered `internal` "internal error", never with its message
 * or stack.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      const procedure = `${request.service.typeName}/${request.method.name}`;
      if (error instanceof ConnectError) {
        if (SERVER_SIDE.has(error.code)) {
          logger.warn("rpc.server_error", {
            procedure,
            code: Code[error.code],
            message: error.rawMessage,
            ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
          });
        }
        throw error;
      }
      logger.error("rpc.unexpected_error", {
        procedure,
        error: describeError(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}

const SERVER_SIDE = new Set([Code.Internal, Code.Unknown, Code.Unavailable, Code.DataLoss]);
