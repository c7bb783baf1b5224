import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_BASE_URL,
  LambdaApiError,
  LambdaClient,
  type LambdaClientOptions,
  type LaunchRequest,
  resolveApiKey,
} from "../../src/cloud/lambda/index.js";
import { InputError } from "../../src/errors.js";
import {
  FakeLambda,
  type FakeLambdaOptions,
  type LoggedRequest,
  RATE_LIMIT_CODE,
} from "../support/fake-lambda.js";
import { freePort } from "../support/ports.js";
import { testTempDir } from "../support/tiny-model.js";
import { VirtualClock } from "../support/virtual-clock.js";

/** Distinctive, so a leak into any message or dump is caught by a plain substring check. */
const KEY = "secret_deepconf-test_7f3a9c1e5b.LEAK-CANARY";
const LAUNCH = "/instance-operations/launch";

const fakes: FakeLambda[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  vi.unstubAllEnvs();
});

interface Setup {
  clock: VirtualClock;
  fake: FakeLambda;
  client: LambdaClient;
  log: string[];
  clientWith(options: Partial<LambdaClientOptions>): LambdaClient;
}

async function setup(
  fakeOptions: FakeLambdaOptions = {},
  clientOptions: Partial<LambdaClientOptions> = {},
): Promise<Setup> {
  const clock = new VirtualClock();
  const fake = await new FakeLambda({ apiKey: KEY, now: clock.now, ...fakeOptions }).start();
  fakes.push(fake);
  fake.addSshKey("laptop");
  const log: string[] = [];
  const clientWith = (options: Partial<LambdaClientOptions>) =>
    new LambdaClient({
      apiKey: KEY,
      baseUrl: fake.url,
      clock,
      log: (line) => log.push(line),
      ...clientOptions,
      ...options,
    });
  return { clock, fake, client: clientWith({}), log, clientWith };
}

function launchRequest(overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    region_name: "us-west-1",
    instance_type_name: "gpu_1x_a10",
    ssh_key_names: ["laptop"],
    name: "deepconf-node-1",
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<LambdaApiError> {
  const error = await promise.then(
    () => expect.unreachable("the call should have failed"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LambdaApiError);
  return error as LambdaApiError;
}

function calls(fake: FakeLambda, method: string, path: string): LoggedRequest[] {
  return fake.requests.filter((r) => r.method === method && r.path === path);
}

function gaps(requests: LoggedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - (requests[i] as LoggedRequest).at);
}

describe("LambdaClient against the Lambda stand-in", () => {
  it("flattens instance types, cheapest first, with the regions that have capacity now", async () => {
    const { fake, client } = await setup();
    const types = await client.instanceTypes();
    expect(types.map((t) => [t.name, t.price_cents_per_hour])).toEqual([
      ["gpu_1x_a10", 75],
      ["gpu_1x_gh200", 149],
      ["gpu_1x_h100_pcie", 249],
      ["gpu_8x_h100_sxm5", 2392],
    ]);
    expect(types[0]?.specs.gpus).toBe(1);
    expect(types[0]?.regions_with_capacity_available.map((r) => r.name)).toEqual([
      "us-west-1",
      "us-east-1",
    ]);

    fake.setCapacity("gpu_8x_h100_sxm5", ["europe-central-1"]);
    const later = await client.instanceTypes();
    expect(later.at(-1)?.regions_with_capacity_available).toEqual([
      { name: "europe-central-1", description: "Germany" },
    ]);
    expect(fake.requests.every((r) => r.hasAuthorization && r.status === 200)).toBe(true);
  });

  it("parses an instance launched from the console, which has no name", async () => {
    const { fake, client } = await setup({ ip: "127.0.0.9" });
    const made = fake.addConsoleInstance({ type: "gpu_1x_gh200", region: "us-east-1" });
    const [listed, ...rest] = await client.listInstances();
    expect(rest).toEqual([]);
    expect(listed?.id).toBe(made.id);
    expect(listed?.name).toBeUndefined();
    expect(listed?.status).toBe("active");
    expect(listed?.ip).toBe("127.0.0.9");
    expect(listed?.instance_type.gpu_description).toBe("GH200 (96 GB)");
    expect(await client.getInstance(made.id)).toEqual(listed);
    expect(await client.getInstance("no-such-instance")).toBeNull();
  });

  it("launches, sees the node boot to active with its ip, and terminates it until it is gone", async () => {
    const activated: string[] = [];
    const { clock, fake, client } = await setup({
      bootMs: 90_000,
      ip: "127.0.0.2",
      onActive: (instance) => {
        activated.push(instance.id);
      },
    });
    const request = launchRequest({ tags: [{ key: "run", value: "r1" }] });
    const launchedAt = clock.now();
    const [id, ...more] = await client.launch(request);
    expect(more).toEqual([]);
    expect(calls(fake, "POST", LAUNCH)[0]?.body).toEqual(request);

    const booting = await client.getInstance(id as string);
    expect(booting).toMatchObject({ status: "booting", ip: null, name: "deepconf-node-1" });
    let polls = 0;
    let instance = booting;
    while (instance?.status === "booting") {
      await clock.sleep(5000);
      instance = await client.getInstance(id as string);
      polls += 1;
    }
    expect(instance).toMatchObject({ id, status: "active", ip: "127.0.0.2" });
    expect(instance?.tags).toEqual([{ key: "run", value: "r1" }]);
    expect(clock.now() - launchedAt).toBeGreaterThanOrEqual(90_000);
    expect(polls).toBeGreaterThan(1);
    expect(activated).toEqual([id]);

    const [terminating] = await client.terminate([id as string]);
    expect(terminating).toMatchObject({ id, status: "terminating" });
    const again = await rejection(client.terminate([id as string]));
    expect(again.code).toBe("global/unknown");
    expect(again.status).toBe(400);

    clock.advance(15_000);
    expect((await client.getInstance(id as string))?.status).toBe("terminated");
    clock.advance(60_000);
    expect(await client.getInstance(id as string)).toBeNull();
    expect(await client.listInstances()).toEqual([]);
  });

  it("manages SSH keys, including a generated pair whose private key comes back once", async () => {
    const { client } = await setup();
    const uploaded = await client.addSshKey("workstation", "ssh-ed25519 AAAAC3Nza test@host");
    expect(uploaded).toMatchObject({
      name: "workstation",
      public_key: "ssh-ed25519 AAAAC3Nza test@host",
    });
    expect(uploaded.private_key).toBeUndefined();
    const generated = await client.addSshKey("generated");
    expect(generated.private_key).toContain("PRIVATE KEY");
    expect(generated.public_key).toMatch(/^ssh-ed25519 /);

    const names = (await client.listSshKeys()).map((k) => k.name);
    expect(names).toEqual(["laptop", "workstation", "generated"]);
    expect((await client.listSshKeys()).some((k) => "private_key" in k)).toBe(false);
    await client.deleteSshKey(uploaded.id);
    expect((await client.listSshKeys()).map((k) => k.name)).toEqual(["laptop", "generated"]);
    expect((await rejection(client.deleteSshKey(uploaded.id))).code).toBe(
      "global/invalid-parameters",
    );
    expect((await rejection(client.addSshKey("laptop", "ssh-ed25519 AAAA x"))).code).toBe(
      "global/invalid-parameters",
    );
  });
});

describe("LambdaApiError: one clear message per documented code, never the key", () => {
  interface Case {
    code: string;
    status: number | null;
    says: RegExp;
    trigger(s: Setup): Promise<unknown>;
    fake?: FakeLambdaOptions;
  }
  const cases: Case[] = [
    {
      code: "global/invalid-api-key",
      status: 401,
      says: /rejected the API key.*LAMBDA_API_KEY.*lambda_keys.*cloud\.lambda\.ai\/api-keys/,
      trigger: (s) => s.clientWith({ apiKey: `${KEY}-revoked` }).listInstances(),
    },
    {
      code: "global/account-inactive",
      status: 403,
      says: /account is inactive.*payment method/,
      trigger: (s) => {
        s.fake.accountInactive = true;
        return s.client.instanceTypes();
      },
    },
    {
      code: "global/invalid-address",
      status: 403,
      says: /billing address is invalid/,
      trigger: (s) => {
        s.fake.billingAddressInvalid = true;
        return s.client.launch(launchRequest());
      },
    },
    {
      code: "global/invalid-parameters",
      status: 400,
      says: /rejected the request's parameters \(Lambda says: name must be a string of at most 64 characters\.\).*instance name/,
      trigger: (s) => s.client.launch(launchRequest({ name: "n".repeat(65) })),
    },
    {
      code: "global/quota-exceeded",
      status: 400,
      says: /quota is used up.*Terminate instances/,
      trigger: (s) => {
        s.fake.quotaExceeded = true;
        return s.client.launch(launchRequest());
      },
    },
    {
      code: "instance-operations/launch/insufficient-capacity",
      status: 400,
      says: /no capacity.*another region \(or --any-region\).*`deepconf nodes types`/,
      trigger: (s) => s.client.launch(launchRequest({ instance_type_name: "gpu_8x_h100_sxm5" })),
    },
    {
      code: "instance-operations/launch/file-system-in-wrong-region",
      status: 400,
      says: /file system is in another region/,
      fake: { fileSystems: [{ name: "datasets", region: "us-east-1" }] },
      trigger: (s) => s.client.launch(launchRequest({ file_system_names: ["datasets"] })),
    },
    {
      code: "global/object-does-not-exist",
      status: 404,
      says: /no such object \(Lambda says: Specified instance does not exist\.\)/,
      trigger: (s) => s.client.terminate(["no-such-instance"]),
    },
    {
      code: "global/unknown",
      status: 400,
      says: /unspecified error.*already be terminating: re-read its status/,
      trigger: async (s) => {
        const made = s.fake.addConsoleInstance();
        await s.client.terminate([made.id]);
        return s.client.terminate([made.id]);
      },
    },
    {
      code: "global/internal-error",
      status: 500,
      says: /internal error\. Try again in a few minutes/,
      trigger: (s) => {
        s.fake.failNext(1, { status: 500, code: "global/internal-error" });
        return s.client.listInstances();
      },
    },
    {
      code: "provider/internal-unavailable",
      status: 503,
      says: /service Lambda Cloud depends on failed \(Lambda says: Provider unavailable\)/,
      trigger: (s) => {
        s.fake.failNext(1, {
          status: 503,
          code: "provider/internal-unavailable",
          message: "Provider unavailable",
        });
        return s.client.listInstances();
      },
    },
    {
      code: RATE_LIMIT_CODE,
      status: 429,
      says: /rate-limiting us/,
      trigger: (s) => {
        s.fake.failNext(1, { status: 429 });
        return s.client.listSshKeys();
      },
    },
    {
      code: "http/502",
      status: 502,
      says: /answered HTTP 502 without an error description; .*try again shortly/,
      trigger: (s) => {
        s.fake.failNext(1, { status: 502, html: true });
        return s.client.listInstances();
      },
    },
    {
      code: "network",
      status: null,
      says: /Could not reach the Lambda Cloud API \(.*ECONNREFUSED.*\)/,
      trigger: async (s) =>
        s.clientWith({ baseUrl: `http://127.0.0.1:${await freePort()}/api/v1` }).listInstances(),
    },
  ];

  it.each(cases)("$code", async ({ code, status, says, trigger, fake }) => {
    const s = await setup(fake, { maxRetries: 0 });
    const error = await rejection(trigger(s));
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toMatch(says);
    expect(error.retryable).toBe(status === null || status === 429 || status >= 500);
    for (const dump of [error.message, String(error), inspect(error), JSON.stringify(error)]) {
      expect(dump).not.toContain(KEY);
    }
  });

  it("hides the key even when an answer echoes it", async () => {
    const s = await setup({}, { maxRetries: 0 });
    s.fake.failNext(1, {
      status: 400,
      code: "global/invalid-parameters",
      message: `bad header: Bearer ${KEY}`,
    });
    const error = await rejection(s.client.listInstances());
    expect(error.message).toContain("bad header: Bearer [redacted]");
    expect(inspect(error)).not.toContain(KEY);
  });
});

describe("retries and rate limits", () => {
  it("retries a GET through a burst of 5xx pages with growing backoff", async () => {
    const { fake, client, log, clock } = await setup();
    fake.addConsoleInstance();
    fake.failNext(3, { status: 502, html: true, path: "/instances" });
    const started = clock.now();
    expect(await client.listInstances()).toHaveLength(1);
    const attempts = calls(fake, "GET", "/instances");
    expect(attempts.map((r) => r.status)).toEqual([502, 502, 502, 200]);
    expect(log).toHaveLength(3);
    expect(log[0]).toMatch(/GET \/instances failed \(502\); retry 1 of 5 in \d+\.\d s/);
    // Backoff 0.5-1x of 1 s, 2 s, 4 s: at least 3.5 s in all, more than spacing alone (3 s).
    expect(clock.now() - started).toBeGreaterThanOrEqual(3500);
  });

  it("gives up after maxRetries and says the failure is retryable", async () => {
    const { fake, clientWith } = await setup();
    fake.failNext(10, { status: 503, html: true });
    const error = await rejection(clientWith({ maxRetries: 2 }).listInstances());
    expect(error).toMatchObject({ code: "http/503", status: 503, retryable: true });
    expect(calls(fake, "GET", "/instances")).toHaveLength(3);
  });

  it("retries terminate after a 5xx (it is safe to repeat)", async () => {
    const { fake, client } = await setup();
    const made = fake.addConsoleInstance();
    fake.failNext(1, { status: 503, html: true, path: "/instance-operations/terminate" });
    const [done] = await client.terminate([made.id]);
    expect(done?.status).toBe("terminating");
    expect(calls(fake, "POST", "/instance-operations/terminate")).toHaveLength(2);
  });

  it("recovers from the stand-in's own 429s when the client does not space requests", async () => {
    const { fake, clientWith } = await setup();
    const eager = clientWith({ minIntervalMs: 0 });
    await Promise.all([eager.listInstances(), eager.listSshKeys(), eager.instanceTypes()]);
    expect(fake.requests.some((r) => r.status === 429)).toBe(true);
    const accepted = fake.requests.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(3);
    for (const gap of gaps(accepted)) expect(gap).toBeGreaterThanOrEqual(1000);
  });

  it("spaces requests >= 1 s and launches >= 12 s apart, so the API never says 429", async () => {
    const { fake, client, clock } = await setup();
    const started = clock.now();
    const ids = await Promise.all([
      client.launch(launchRequest({ name: "a" })),
      client.listInstances(),
      client.launch(launchRequest({ name: "b" })),
      client.instanceTypes(),
      client.launch(launchRequest({ name: "c", region_name: "us-east-1" })),
      client.listSshKeys(),
    ]);
    expect(ids.filter((r) => Array.isArray(r) && typeof r[0] === "string")).toHaveLength(3);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const gap of gaps(fake.requests)) expect(gap).toBeGreaterThanOrEqual(1000);
    const launches = calls(fake, "POST", LAUNCH);
    expect(gaps(launches)).toHaveLength(2);
    for (const gap of gaps(launches)) expect(gap).toBeGreaterThanOrEqual(12_000);
    expect(clock.now() - started).toBeGreaterThanOrEqual(24_000);
  });

  it("stops waiting for its turn when the signal aborts", async () => {
    const { fake, client } = await setup();
    await client.launch(launchRequest());
    const controller = new AbortController();
    const second = client.launch(launchRequest({ name: "second" }), controller.signal);
    controller.abort(new Error("user pressed Ctrl-C"));
    await expect(second).rejects.toThrow("user pressed Ctrl-C");
    expect(calls(fake, "POST", LAUNCH)).toHaveLength(1);
  });
});

describe("launch is not idempotent", () => {
  it("is retried after a 429: the API refused it without launching", async () => {
    const { fake, client } = await setup();
    fake.failNext(1, { status: 429, path: LAUNCH });
    const [id] = await client.launch(launchRequest());
    const launches = calls(fake, "POST", LAUNCH);
    expect(launches.map((r) => r.status)).toEqual([429, 200]);
    expect(gaps(launches)[0]).toBeGreaterThanOrEqual(12_000);
    expect(fake.instances().map((i) => i.id)).toEqual([id]);
  });

  it("is not retried after a 5xx, and says the node may exist (it does)", async () => {
    const { fake, client } = await setup();
    fake.failNextLaunchAfterCommit(500);
    const error = await rejection(client.launch(launchRequest({ name: "maybe-node" })));
    expect(error).toMatchObject({ code: "global/internal-error", status: 500 });
    expect(error.maybeLaunched).toBe(true);
    expect(calls(fake, "POST", LAUNCH)).toHaveLength(1);
    // The caller reconciles by name: the stand-in really launched it.
    const found = (await client.listInstances()).filter((i) => i.name === "maybe-node");
    expect(found.map((i) => i.status)).toEqual(["booting"]);
  });

  it("says maybeLaunched after a proxy page, a non-API answer or a lost connection, never after a 4xx", async () => {
    const { fake, client, clientWith } = await setup();
    fake.failNext(1, { status: 502, html: true, path: LAUNCH });
    const proxy = await rejection(client.launch(launchRequest()));
    expect(proxy).toMatchObject({ code: "http/502", maybeLaunched: true });
    expect(calls(fake, "POST", LAUNCH)).toHaveLength(1);

    fake.failNext(1, { status: 200, html: true, path: LAUNCH });
    const strange = await rejection(client.launch(launchRequest()));
    expect(strange).toMatchObject({ code: "http/200", maybeLaunched: true, retryable: false });
    expect(strange.message).toMatch(/answered HTTP 200 with something other than the API's JSON/);

    const lost = clientWith({ baseUrl: `http://127.0.0.1:${await freePort()}/api/v1` });
    expect(await rejection(lost.launch(launchRequest()))).toMatchObject({
      code: "network",
      maybeLaunched: true,
    });

    fake.setCapacity("gpu_1x_a10", []);
    const refused = await rejection(client.launch(launchRequest()));
    expect(refused).toMatchObject({
      code: "instance-operations/launch/insufficient-capacity",
      maybeLaunched: false,
      retryable: false,
    });
  });
});

describe("the client keeps its key to itself", () => {
  it("shows no key in inspect, JSON or string forms", async () => {
    const { client } = await setup();
    for (const dump of [
      inspect(client),
      inspect(client, { showHidden: true, depth: 5 }),
      JSON.stringify(client),
      String(client),
      Object.keys(client).join(","),
    ]) {
      expect(dump).not.toContain(KEY);
    }
    expect(inspect(client)).toContain("baseUrl");
  });

  it("takes its base URL from LAMBDA_API_URL, else the public API", () => {
    vi.stubEnv("LAMBDA_API_URL", "http://127.0.0.1:9/api/v1/");
    expect(new LambdaClient({ apiKey: KEY }).baseUrl).toBe("http://127.0.0.1:9/api/v1");
    vi.stubEnv("LAMBDA_API_URL", undefined);
    expect(new LambdaClient({ apiKey: KEY }).baseUrl).toBe(DEFAULT_BASE_URL);
    expect(DEFAULT_BASE_URL).toBe("https://cloud.lambda.ai/api/v1");
  });
});

describe("resolveApiKey", () => {
  function homeWithKeys(text?: string): string {
    const home = testTempDir("lambda-home-");
    if (text !== undefined) {
      mkdirSync(join(home, ".lambda_cloud"));
      writeFileSync(join(home, ".lambda_cloud", "lambda_keys"), text);
    }
    return home;
  }

  it("takes LAMBDA_API_KEY first and names the source without the key", () => {
    const home = homeWithKeys("api_key = from-file\n");
    const resolved = resolveApiKey({ env: { LAMBDA_API_KEY: ` ${KEY} ` }, home });
    expect(resolved.key).toBe(KEY);
    expect(resolved.source).toContain("LAMBDA_API_KEY");
    expect(resolved.source).not.toContain(KEY);
  });

  it("reads the api_key line of ~/.lambda_cloud/lambda_keys among comments and other keys", () => {
    const home = homeWithKeys(
      `# keys for Lambda Cloud\n\n  other_key = nope\napi_key   =   ${KEY}   # the main one\n`,
    );
    const resolved = resolveApiKey({ env: { LAMBDA_API_KEY: "" }, home });
    expect(resolved).toEqual({ key: KEY, source: join(home, ".lambda_cloud", "lambda_keys") });
    expect(resolveApiKey({ env: {}, home: homeWithKeys('api_key="quoted-key"') }).key).toBe(
      "quoted-key",
    );
  });

  it("says how to get and set a key when there is none", () => {
    const home = homeWithKeys();
    const fail = () => resolveApiKey({ env: {}, home });
    expect(fail).toThrow(InputError);
    expect(fail).toThrow(/no Lambda Cloud API key found/);
    expect(fail).toThrow("https://cloud.lambda.ai/api-keys");
    expect(fail).toThrow("export LAMBDA_API_KEY=<your key>");
    expect(fail).toThrow(
      `"api_key = <your key>" into ${join(home, ".lambda_cloud", "lambda_keys")}`,
    );
  });

  it("says so when the keys file has no api_key line", () => {
    const home = homeWithKeys("# nothing here\nother = 1\n");
    expect(() => resolveApiKey({ env: {}, home })).toThrow(/has no "api_key = \.\.\." line/);
  });
});
