/** `deepconf nodes ...`: commander wiring and Ctrl-C; the work is src/cloud/nodes'. */
import { type Command, Option } from "commander";
import {
  attachCommand,
  fleet,
  launchCommand,
  logsCommand,
  type NodesOutput,
  nodeJson,
  pickNode,
  sshCommand,
  terminateCommand,
  workersIfReachable,
} from "../cloud/nodes/commands.js";
import { costText, listText, typesText } from "../cloud/nodes/render.js";
import { DEFAULT_NAME_PREFIX, openNodesSession } from "../cloud/nodes/session.js";
import { ExitStatus, InputError } from "../errors.js";
import { DEFAULT_PREFIX } from "../queue/names.js";
import type { CliIO } from "./io.js";
import { duration, numberIn, positiveInteger } from "./parse.js";
import { redisUrlFrom } from "./worker.js";

const money = numberIn(0, 1e6, { minExclusive: true });

function output(io: CliIO): NodesOutput {
  return {
    stdout: io.stdout,
    info: (line) => io.stderr(`deepconf nodes: ${line}\n`),
    warn: (text) => io.stderr(`\n${text}\n\n`),
  };
}

/**
 * Two-stage Ctrl-C: the first aborts `first` (stop launching: clean up; or stop holding), the
 * second exits at once. Returns the signal and a function removing the handlers.
 */
function interrupts(io: CliIO, what: string) {
  const controller = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 1) {
      io.stderr(
        `deepconf: ${signal} again: exiting now; check \`deepconf nodes list\` for nodes that still bill\n`,
      );
      process.exit(130);
    }
    io.stderr(`deepconf: ${signal}: ${what} (send it again to exit at once)\n`);
    controller.abort(new Error(signal));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    release: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

interface CommonFlags {
  namePrefix: string;
  json?: boolean;
}

export function registerNodes(program: Command, io: CliIO): void {
  const nodes = program
    .command("nodes")
    .summary("rent Lambda Cloud GPU nodes that run queue workers (see LAMBDA_SETUP.md)")
    .description(
      "Launches Lambda Cloud GPU nodes, bootstraps them over SSH (Node.js, this checkout, runtime " +
        "dependencies, models) and runs a queue worker on each, reaching this machine's Redis through " +
        "an SSH reverse tunnel. The API key comes from LAMBDA_API_KEY or ~/.lambda_cloud/lambda_keys; " +
        "LAMBDA_API_URL replaces the API's address. Every command reconciles with the API first: it " +
        "is the truth about what runs and bills. State lives in DEEPCONF_HOME (default ~/.deepconf).",
    );
  const prefixOption = () =>
    new Option("--name-prefix <prefix>", "nodes are named and found by this prefix").default(
      DEFAULT_NAME_PREFIX,
    );

  nodes
    .command("types")
    .summary("instance types: GPU, price and the regions with capacity now")
    .option("--json", "the API's objects as JSON")
    .action(async (flags: { json?: boolean }) => {
      const session = openNodesSession();
      const offers = await session.client.instanceTypes();
      io.stdout(flags.json ? `${JSON.stringify(offers, null, 2)}\n` : typesText(offers));
    });

  nodes
    .command("launch")
    .summary("launch GPU nodes, bootstrap them and start a worker on each; then hold their tunnels")
    .description(
      "Capacity check, launch (one call per node, failing over across regions with capacity), wait " +
        "until active with an IP, wait until SSH runs a command, probe the GPU (nvidia-smi), " +
        "bootstrap (Node.js, the project, npm ci --omit=dev, --pull models), start the worker under " +
        "a supervisor, and wait for its heartbeat in our Redis. Ctrl-C or any failure before then " +
        "terminates the node (unless --keep-on-failure). Afterwards the command holds the nodes' " +
        "tunnels and enforces --idle-terminate and --budget until Ctrl-C (the nodes keep running; " +
        "`deepconf nodes attach` resumes).",
    )
    .requiredOption("--type <type>", "instance type, e.g. gpu_1x_a100_sxm4 (see `nodes types`)")
    .option("--region <region>", "launch only here (default: any region with capacity)")
    .option("--any-region", "any region with capacity, in the API's order (the default)")
    .option("--count <n>", "nodes to launch", positiveInteger, 1)
    .addOption(prefixOption())
    .option("--ssh-key <name>", "Lambda SSH key name to launch with (must match --ssh-key-file)")
    .option(
      "--ssh-key-file <path>",
      "private key to log in with (default: the tool's own ed25519 key, created and registered on first use)",
    )
    .option("--ssh-user <user>", "login on the node", "ubuntu")
    .option("--ssh-port <port>", "SSH port on the node", positiveInteger, 22)
    .option("--max-hourly <usd>", "refuse a launch that takes the fleet above this $/h", money)
    .option(
      "--budget <usd>",
      "refuse launches once the fleet has cost this; terminate all at it",
      money,
    )
    .option(
      "--idle-terminate <duration>",
      "terminate a node after this long without work (e.g. 20m)",
      duration,
    )
    .option("--keep-on-failure", "leave a node that failed to come up running (it bills)")
    .addOption(
      new Option("--ready-timeout <duration>", "limit for active + SSH ready")
        .argParser(duration)
        .default(15 * 60_000, "15m"),
    )
    .addOption(
      new Option("--worker-timeout <duration>", "limit for the worker's first heartbeat")
        .argParser(duration)
        .default(10 * 60_000, "10m"),
    )
    .addOption(
      new Option("--device <device>", "the worker's device")
        .choices(["cuda", "cpu"])
        .default("cuda"),
    )
    .option("--max-rows <n>", "the workers' --max-rows: traces decoding at once", positiveInteger)
    .option("--pull <model...>", "hub models to download on the node before the worker starts")
    .option("--dtype <dtype>", "ONNX precision of --pull models", "fp32")
    .option("--remote-dir <dir>", "folder on the node (under its home unless absolute)", "deepconf")
    .option(
      "--redis <url>",
      "our Redis, reached by the workers through the tunnel (default: $REDIS_URL)",
    )
    .option("--prefix <prefix>", "queue key prefix in Redis", DEFAULT_PREFIX)
    .option("--detach", "exit once the workers are up (they wait for `nodes attach`)")
    .option("--json", 'print {"nodes": [...], "failed": [...]} on stdout')
    .action(async (flags: LaunchFlags) => {
      if (flags.region !== undefined && flags.anyRegion) {
        throw new InputError("give --region or --any-region, not both");
      }
      const session = openNodesSession();
      const launching = interrupts(
        io,
        "stopping: nodes not up yet are terminated; nodes that are up are left running",
      );
      try {
        await launchCommand(
          session,
          {
            plan: {
              type: flags.type,
              region: flags.region ?? null,
              count: flags.count,
              namePrefix: flags.namePrefix,
              sshUser: flags.sshUser,
              sshPort: flags.sshPort,
              remoteDir: flags.remoteDir,
              device: flags.device,
              maxRows: flags.maxRows ?? null,
              queuePrefix: flags.prefix,
              idleTerminateMs: flags.idleTerminate ?? null,
              maxHourlyUsd: flags.maxHourly ?? null,
              budgetUsd: flags.budget ?? null,
              keepOnFailure: flags.keepOnFailure === true,
              readyTimeoutMs: flags.readyTimeout,
              workerTimeoutMs: flags.workerTimeout,
              pull: (flags.pull ?? []).map((model) => ({ model, dtype: flags.dtype })),
              nodeDistUrl: process.env.DEEPCONF_NODE_DIST_URL,
            },
            sshKeyName: flags.sshKey,
            sshKeyFile: flags.sshKeyFile,
            redisUrl: redisUrlFrom(flags.redis),
            detach: flags.detach === true,
            json: flags.json === true,
            signal: launching.signal,
          },
          output(io),
        );
      } finally {
        launching.release();
      }
    });

  nodes
    .command("attach")
    .summary("hold the tunnels of running nodes again (after --detach or Ctrl-C)")
    .argument("[names...]", "nodes by name or id")
    .option("--all", "every running node launched from here")
    .addOption(prefixOption())
    .option("--ssh-key-file <path>", "private key (default: the one each node was launched with)")
    .option("--redis <url>", "our Redis (default: $REDIS_URL)")
    .option("--prefix <prefix>", "queue key prefix in Redis", DEFAULT_PREFIX)
    .option("--budget <usd>", "terminate the held nodes once they have cost this", money)
    .action(async (names: string[], flags: AttachFlags) => {
      if (names.length === 0 && !flags.all) throw new InputError("name the nodes, or give --all");
      const session = openNodesSession();
      const holding = interrupts(io, "detaching (the nodes keep running)");
      try {
        await attachCommand(
          session,
          {
            names,
            all: flags.all === true,
            namePrefix: flags.namePrefix,
            queuePrefix: flags.prefix,
            redisUrl: redisUrlFrom(flags.redis),
            budgetUsd: flags.budget ?? null,
            sshKeyFile: flags.sshKeyFile,
            signal: holding.signal,
          },
          output(io),
        );
      } finally {
        holding.release();
      }
    });

  nodes
    .command("list")
    .summary("nodes with status, IP, uptime, cost so far and worker state")
    .addOption(prefixOption())
    .option("--all", "include ended nodes")
    .option("--redis <url>", "read worker state from this Redis (default: $REDIS_URL, if set)")
    .option("--prefix <prefix>", "queue key prefix in Redis", DEFAULT_PREFIX)
    .option("--json", "the API's objects plus the tool's fields")
    .action(async (flags: CommonFlags & { all?: boolean; redis?: string; prefix: string }) => {
      const session = openNodesSession();
      const list = await fleet(session, flags.namePrefix, flags.all === true);
      const workers = await workersIfReachable(flags.redis ?? process.env.REDIS_URL, flags.prefix);
      io.stdout(
        flags.json
          ? `${JSON.stringify({ nodes: list.map((n) => nodeJson(n, workers)) }, null, 2)}\n`
          : listText(list, workers),
      );
    });

  nodes
    .command("cost")
    .summary("cost per node and in total since launch (ended nodes included)")
    .addOption(prefixOption())
    .option("--json", "per node and the total as JSON")
    .action(async (flags: CommonFlags) => {
      const session = openNodesSession();
      const list = (await fleet(session, flags.namePrefix, true)).filter(
        (n) => n.record !== null || n.costUsd !== null,
      );
      if (flags.json) {
        const total = list.reduce((sum, n) => sum + (n.costUsd ?? 0), 0);
        io.stdout(
          `${JSON.stringify({ nodes: list.map((n) => nodeJson(n)), total_usd: Number(total.toFixed(4)) }, null, 2)}\n`,
        );
      } else io.stdout(costText(list));
    });

  nodes
    .command("ssh")
    .summary("a shell on a node, or run one command there (after --)")
    .argument("<name>", "node name or id")
    .argument("[command...]", "command to run (after --); none: an interactive login")
    .addOption(prefixOption())
    .option("--ssh-key-file <path>", "private key (default: the one the node was launched with)")
    .action(
      async (name: string, command: string[], flags: CommonFlags & { sshKeyFile?: string }) => {
        const session = openNodesSession();
        const node = pickNode(await fleet(session, flags.namePrefix), name);
        await sshCommand(
          session,
          node,
          command,
          { stdout: io.stdout, stderr: io.stderr },
          { sshKeyFile: flags.sshKeyFile },
        );
      },
    );

  nodes
    .command("logs")
    .summary("the worker's log on a node")
    .argument("<name>", "node name or id")
    .addOption(prefixOption())
    .option("--follow", "keep printing new lines until Ctrl-C")
    .option("--lines <n>", "lines from the end", positiveInteger, 100)
    .option("--supervisor", "the supervisor's log (restarts) instead of the worker's")
    .action(
      async (
        name: string,
        flags: CommonFlags & { follow?: boolean; lines: number; supervisor?: boolean },
      ) => {
        const session = openNodesSession();
        const node = pickNode(await fleet(session, flags.namePrefix), name);
        const following = interrupts(io, "stopping");
        try {
          await logsCommand(
            session,
            node,
            {
              lines: flags.lines,
              follow: flags.follow === true,
              supervisor: flags.supervisor === true,
              signal: following.signal,
            },
            io.stdout,
          );
        } finally {
          following.release();
        }
      },
    );

  nodes
    .command("terminate")
    .summary("terminate nodes (workers hand their jobs back first) and check that they end")
    .argument("[names...]", "nodes by name or id")
    .option("--all", "every live node with the name prefix")
    .addOption(prefixOption())
    .option("--now", "skip stopping the workers first")
    .option("--json", "per node: terminated or not")
    .action(async (names: string[], flags: CommonFlags & { all?: boolean; now?: boolean }) => {
      if (names.length === 0 && !flags.all) throw new InputError("name the nodes, or give --all");
      const session = openNodesSession();
      const live = await fleet(session, flags.namePrefix);
      const chosen = flags.all ? live : names.map((name) => pickNode(live, name));
      if (chosen.length === 0) {
        io.stdout(flags.json ? `${JSON.stringify({ nodes: [] })}\n` : "no live nodes\n");
        return;
      }
      const out = output(io);
      const outcomes = await terminateCommand(
        session,
        chosen,
        { graceful: flags.now !== true },
        out,
      );
      if (flags.json) io.stdout(`${JSON.stringify({ nodes: outcomes }, null, 2)}\n`);
      else
        for (const o of outcomes)
          io.stdout(
            `${o.name ?? o.id} (${o.id}): ${o.terminated ? `terminated (${o.status})` : "NOT terminated: it may still bill"}\n`,
          );
      if (outcomes.some((o) => !o.terminated)) throw new ExitStatus(1);
    });
}

interface LaunchFlags extends CommonFlags {
  type: string;
  region?: string;
  anyRegion?: boolean;
  count: number;
  sshKey?: string;
  sshKeyFile?: string;
  sshUser: string;
  sshPort: number;
  maxHourly?: number;
  budget?: number;
  idleTerminate?: number;
  keepOnFailure?: boolean;
  readyTimeout: number;
  workerTimeout: number;
  device: "cuda" | "cpu";
  maxRows?: number;
  pull?: string[];
  dtype: string;
  remoteDir: string;
  redis?: string;
  prefix: string;
  detach?: boolean;
}

interface AttachFlags extends CommonFlags {
  all?: boolean;
  sshKeyFile?: string;
  redis?: string;
  prefix: string;
  budget?: number;
}
