// The appctl command registry (OVS unixctl): subsystems register named
// commands with a usage line; the RPC server dispatches `appctl` requests here.

export type AppctlHandler = (args: string[]) => string | Promise<string>;

/** A command failed in a way the user should read (printed to stderr, non-zero exit). */
export class AppctlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppctlError';
  }
}

interface Command {
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly handler: AppctlHandler;
}

export class AppctlRegistry {
  private readonly commands = new Map<string, Command>();

  constructor() {
    this.registerAppctl('list-commands', '', 0, 0, () => this.listCommands());
  }

  /**
   * Registers `name`. `usage` is the argument synopsis shown by list-commands;
   * calls with fewer than minArgs or more than maxArgs arguments are refused
   * before the handler runs. Registering a name twice replaces it.
   */
  registerAppctl(name: string, usage: string, minArgs: number, maxArgs: number, handler: AppctlHandler): () => void {
    const cmd = { usage, minArgs, maxArgs, handler };
    this.commands.set(name, cmd);
    return () => {
      if (this.commands.get(name) === cmd) this.commands.delete(name);
    };
  }

  has(name: string): boolean {
    return this.commands.has(name);
  }

  async run(name: string, args: string[]): Promise<string> {
    const c = this.commands.get(name);
    if (!c) throw new AppctlError(`"${name}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (args.length < c.minArgs) throw new AppctlError(`"${name}" command requires at least ${c.minArgs} arguments`);
    if (args.length > c.maxArgs) throw new AppctlError(`"${name}" command takes at most ${c.maxArgs} arguments`);
    return c.handler(args);
  }

  listCommands(): string {
    const lines = [...this.commands.keys()].sort().map((n) => `  ${n}${this.commands.get(n)!.usage ? ' ' + this.commands.get(n)!.usage : ''}`);
    return `The available commands are:\n${lines.join('\n')}\n`;
  }
}
