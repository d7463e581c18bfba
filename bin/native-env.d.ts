export declare const NATIVE_ENV: Record<string, string>;
export declare function alreadyTuned(env?: NodeJS.ProcessEnv): boolean;
export declare function relaunch(nodeArgs: string[]): void;
export declare function endQuietlyOnClosedStdout(stop?: () => void): void;
