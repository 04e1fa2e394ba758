import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  EchoRequestSchema,
  EchoResponseSchema,
  EchoService,
} from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { clientAddressKey, createHttpApi } from "../http/index.js";
import { createApiGatewayHandler } from "./api-gateway-adapter.js";

const PATH = "/vettid.diagnostics.v1.EchoService/Echo";

/** An API whose echo answers with the caller's address, to see what the adapter passes on. */
const handler = createApiGatewayHandler(
  createHttpApi({
    routes: (router) =>
      router.service(EchoService, {
        echo: (request, context) => ({
          text: `${request.text}@${context.values.get(clientAddressKey) ?? "?"}`,
        }),
      }),
  }),
);

function event(
  overrides: Partial<APIGatewayProxyEventV2> & { path?: string; method?: string },
): APIGatewayProxyEventV2 {
  const { path = PATH, method = "POST", ...rest } = overrides;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example",
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "test" },
      requestId: "r",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
    isBase64Encoded: false,
    ...rest,
  };
}

describe("API Gateway HTTP API adapter", () => {
  it("answers JSON as text, with the caller's source IP reaching the service", async () => {
    const result = await handler(event({ body: JSON.stringify({ text: "hi" }) }));
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers?.["content-type"]).toBe("application/json");
    expect(JSON.parse(result.body ?? "")).toEqual({ text: "hi@203.0.113.9" });
  });

  it("takes base64 bodies and answers binary protobuf in base64", async () => {
    const body = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "bin" }));
    const result = await handler(
      event({
        headers: { "content-type": "application/proto" },
        body: Buffer.from(body).toString("base64"),
        isBase64Encoded: true,
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    const response = fromBinary(EchoResponseSchema, Buffer.from(result.body ?? "", "base64"));
    expect(response.text).toBe("bin@203.0.113.9");
  });

  it("strips a named stage from the path", async () => {
    const result = await handler(
      event({
        rawPath: `/prod${PATH}`,
        body: JSON.stringify({ text: "staged" }),
        requestContext: { ...event({}).requestContext, stage: "prod" },
      }),
    );
    expect(result.statusCode).toBe(200);
  });

  it("refuses what the edge refuses, as JSON", async () => {
    const unknown = await handler(event({ rawPath: "/nope", body: "{}" }));
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body ?? "")).toMatchObject({ code: "not_found" });
    const get = await handler(event({ method: "GET" }));
    expect(get.statusCode).toBe(405);
    expect(get.headers?.allow).toBe("POST");
    const garbage = await handler(
      event({
        headers: { "content-type": "application/proto" },
        body: "//8=",
        isBase64Encoded: true,
      }),
    );
    expect(garbage.statusCode).toBe(400);
    expect(JSON.parse(garbage.body ?? "").code).toBe("invalid_argument");
  });

  it("turns an unexpected exception into internal, without its message or stack", async () => {
    const failing = createApiGatewayHandler(
      createHttpApi({
        routes: (router) =>
          router.service(EchoService, {
            echo: () => {
              throw new Error("secret detail at /srv/app.ts:12");
            },
          }),
      }),
    );
    const result = await failing(event({ body: "{}" }));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body ?? "")).toEqual({ code: "internal", message: "internal error" });
  });
});
