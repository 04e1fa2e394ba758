import type { UnavailableVariant, Variant } from "./variant.js";

const KEY = "sealed";
const LABEL = "transport, sealed";

/*
 * ╔══════════════════════════════════════════════════════════════════════════════════════════╗
 * ║ THE SEALED VARIANT PLUGS IN HERE.                                                        ║
 * ║                                                                                          ║
 * ║ `createNatsTransport` and `serveNats` will take a `sealing` option. Once `createSealing` ║
 * ║ is exported by rpc/index.ts, replace the second `return` below with something like:      ║
 * ║                                                                                          ║
 * ║   const { client, server } = await makeSealingPair(rpc.createSealing); // keys, etc.     ║
 * ║   return natsTransportVariant({                                                          ║
 * ║     key: KEY,                                                                            ║
 * ║     label: LABEL,                                                                        ║
 * ║     client: { sealing: client },                                                         ║
 * ║     server: { sealing: server },                                                         ║
 * ║   });                                                                                    ║
 * ║                                                                                          ║
 * ║ (natsTransportVariant is in ./nats-transport.ts.) Nothing else needs to change: the       ║
 * ║ variant is already in the list, measured like the others, and reported as `sealed_*`    ║
 * ║ figures with its ratios to raw NATS.                                                     ║
 * ╚══════════════════════════════════════════════════════════════════════════════════════════╝
 */
export async function sealedVariant(): Promise<Variant | UnavailableVariant> {
  const rpc = await import("../../rpc/index.js");
  if (!("createSealing" in rpc)) {
    return { key: KEY, label: LABEL, unavailable: "not yet available" };
  }
  return {
    key: KEY,
    label: LABEL,
    unavailable: "createSealing is exported, but bench/rpc/sealed.ts does not use it yet",
  };
}
