// The part of ioredis's API the edge's core and the contract use, without
// ioredis's own declarations (they pull in @types/node). Only edge/tsconfig.json
// maps "ioredis" here; everywhere else (the root tsconfig, the entries) the real
// declarations check the same code, so this file can only be narrower than them.
declare module "ioredis" {
  type Arg = string | number;
  type Reply<T> = Promise<T>;
  type ExecResult = [error: Error | null, result: unknown][] | null;

  export interface ChainableCommander {
    del(...keys: string[]): ChainableCommander;
    set(key: string, value: Arg, ...args: Arg[]): ChainableCommander;
    hset(key: string, ...args: (Arg | Record<string, Arg>)[]): ChainableCommander;
    hgetall(key: string): ChainableCommander;
    hget(key: string, field: string): ChainableCommander;
    mget(...keys: string[]): ChainableCommander;
    sadd(key: string, ...members: Arg[]): ChainableCommander;
    srem(key: string, ...members: Arg[]): ChainableCommander;
    publish(channel: string, message: string): ChainableCommander;
    expire(key: string, seconds: number): ChainableCommander;
    exec(): Reply<ExecResult>;
  }

  export interface Redis {
    readonly status: string;
    /** true on an ioredis Cluster (contract/node/redis-connect.ts returns either as Redis) */
    readonly isCluster: boolean;
    defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
    pipeline(): ChainableCommander;
    multi(): ChainableCommander;
    duplicate(override?: { connectionName?: string; lazyConnect?: boolean }): Redis;
    connect(): Reply<void>;
    disconnect(): void;
    on(event: string, listener: (...args: any[]) => void): this;
    client(subcommand: string, ...args: Arg[]): Reply<unknown>;
    ping(): Reply<string>;
    spublish(channel: string, message: string): Reply<number>;
    get(key: string): Reply<string | null>;
    set(key: string, value: Arg, ...args: Arg[]): Reply<"OK" | null>;
    del(...keys: string[]): Reply<number>;
    expire(key: string, seconds: number): Reply<number>;
    mget(...keys: string[]): Reply<(string | null)[]>;
    mget(keys: string[]): Reply<(string | null)[]>;
    hget(key: string, field: string): Reply<string | null>;
    hmget(key: string, ...fields: string[]): Reply<(string | null)[]>;
    exists(...keys: string[]): Reply<number>;
    hgetall(key: string): Reply<Record<string, string>>;
    hexists(key: string, field: string): Reply<number>;
    hincrby(key: string, field: string, increment: number): Reply<number>;
    smembers(key: string): Reply<string[]>;
    sadd(key: string, ...members: Arg[]): Reply<number>;
    srem(key: string, ...members: Arg[]): Reply<number>;
    hset(key: string, ...args: (Arg | Record<string, Arg>)[]): Reply<number>;
    zrangebyscore(key: string, min: Arg, max: Arg, ...args: Arg[]): Reply<string[]>;
    lpos(key: string, element: Arg, ...args: Arg[]): Reply<number | null>;
    xrevrange(key: string, end: Arg, start: Arg, ...args: Arg[]): Reply<[id: string, fields: string[]][]>;
    xrange(key: string, start: Arg, end: Arg, ...args: Arg[]): Reply<[id: string, fields: string[]][]>;
    xread(...args: Arg[]): Reply<[key: string, items: [id: string, fields: string[]][]][] | null>;
  }
}
