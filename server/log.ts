// One line per event for the CLIs: a readable line with a timestamp by default, or with
// `--log json` one JSON object per line ({"t", "event", "peer", "reason", "bytes", ...})
// for machines. Fields that are undefined are left out.

export type LogFormat = "text" | "json";

export interface LogFields {
  peer?: string;
  reason?: string;
  bytes?: number;
  [name: string]: string | number | boolean | undefined;
}

export type LogFunction = (event: string, fields?: LogFields) => void;

export function createLogger(format: LogFormat, writeLine: (line: string) => void, clock: () => Date = () => new Date()): LogFunction {
  return (event, fields = {}) => {
    const t = clock().toISOString();
    if (format === "json") {
      const record: Record<string, unknown> = { t, event };
      for (const name of Object.keys(fields)) if (fields[name] !== undefined) record[name] = fields[name];
      writeLine(JSON.stringify(record));
      return;
    }
    let line = t + " " + event;
    for (const name of Object.keys(fields)) {
      const value = fields[name];
      if (value === undefined) continue;
      const text = String(value);
      line += " " + name + "=" + (typeof value === "string" && (text === "" || /[\s"=]/.test(text)) ? JSON.stringify(text) : text);
    }
    writeLine(line);
  };
}
