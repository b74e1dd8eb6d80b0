import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of the service bundle (dist/service/server.mjs) mapped back to src/ and
 * node_modules/, like `node --enable-source-maps`, but the map is read the first time a stack trace
 * is formatted instead of at start-up: --enable-source-maps parses the whole map (~1 MiB) before
 * the first line runs, which cost ~140 ms, more than half of bare Fastify's whole start-up here.
 * Frames of other files keep V8's own format. Does nothing when `file.map` is absent.
 */
export function installLazySourceMaps(moduleUrl: string): void {
  const file = fileURLToPath(moduleUrl);
  let map: SourceMap | null | undefined;
  const sourceMap = (): SourceMap | null => {
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
      } catch {
        map = null;
      }
    }
    return map;
  };
  const mapFrame = (frame: NodeJS.CallSite): string => {
    const fileName = frame.getFileName();
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    if ((fileName !== moduleUrl && fileName !== file) || line === null || column === null) return `    at ${frame}`;
    const origin = sourceMap()?.findOrigin(line, column);
    if (!origin || !('fileName' in origin)) return `    at ${frame}`;
    const name = frame.getFunctionName() ?? origin.name;
    const where = `${resolve(dirname(file), origin.fileName)}:${origin.lineNumber}:${origin.columnNumber}`;
    return name ? `    at ${frame.isAsync() ? 'async ' : ''}${name} (${where})` : `    at ${where}`;
  };
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]): string => {
    let header: string;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = '<error>';
    }
    return [header, ...frames.map((frame) => {
      try {
        return mapFrame(frame);
      } catch {
        return `    at ${frame}`;
      }
    })].join('\n');
  };
}
