// `node scripts/gen-large-ifc.mjs SOURCE.ifc TARGET_MB OUT.ifc`: writes a valid IFC (STEP) model
// of about TARGET_MB (10^6 bytes) by repeating SOURCE's DATA section with shifted entity ids.
// Real models of hundreds of MB are not ours to ship; copies of a real one parse like one and
// multiply every count, so a test or benchmark can check the summary of a large model exactly.
//
// Memory is bounded by the source (one copy of its DATA section at a time), not by the target:
// the output is streamed with backpressure and appears under OUT only once complete, so a
// parallel run never reads a half-written model. Prints {out, bytes, copies, source} as JSON;
// progress goes to stderr.
import { createWriteStream, readFileSync, renameSync, rmSync } from "node:fs";
import { pathToFileURL } from "node:url";

// A STEP string ('' escapes a quote) or comment is copied as it is; only a #id outside them is
// a reference. Names such as 'Door #3' must stay equal in every copy.
const TOKENS = /'(?:[^']|'')*'|\/\*[\s\S]*?\*\/|#(\d+)/g;

/** Splits a STEP file into the text up to DATA;, the instances, and ENDSEC; onwards. */
function splitModel(text, name = "source") {
  const dataAt = text.indexOf("DATA;");
  const endAt = text.lastIndexOf("ENDSEC;");
  if (dataAt < 0 || endAt < dataAt) throw new Error(`${name}: no DATA section`);
  return {
    header: `${text.slice(0, dataAt + "DATA;".length)}\n`,
    body: `${text.slice(dataAt + "DATA;".length, endAt).trim()}\n`,
    trailer: text.slice(endAt),
  };
}

/**
 * The instances cut once at every reference: `texts[i]` comes before `ids[i]`, and the last
 * text closes the body. Each copy is then a join, without parsing the source again.
 */
function template(body) {
  const texts = [];
  const ids = [];
  let from = 0;
  for (const match of body.matchAll(TOKENS)) {
    if (match[1] === undefined) continue;
    texts.push(body.slice(from, match.index + 1));
    ids.push(Number(match[1]));
    from = match.index + match[0].length;
  }
  texts.push(body.slice(from));
  return { texts, ids, highest: ids.reduce((a, b) => Math.max(a, b), 0) };
}

/** One copy of the instances with every reference moved up by `offset`. */
function shifted({ texts, ids }, offset) {
  const pieces = new Array(texts.length + ids.length);
  for (let i = 0; i < ids.length; i += 1) {
    pieces[2 * i] = texts[i];
    pieces[2 * i + 1] = String(ids[i] + offset);
  }
  pieces[pieces.length - 1] = texts[ids.length];
  return pieces.join("");
}

export async function generateLargeIfc(source, targetBytes, out, progress = () => {}) {
  // latin1 keeps every byte as one character, so string lengths are byte counts.
  const { header, body, trailer } = splitModel(readFileSync(source, "latin1"), source);
  const instances = template(body);
  const stride = instances.highest + 1;
  const partial = `${out}.${process.pid}.partial`;
  const stream = createWriteStream(partial);
  const write = (text) =>
    new Promise((resolve, reject) => {
      const onError = (error) => reject(error);
      stream.once("error", onError);
      const drained = () => {
        stream.off("error", onError);
        resolve();
      };
      if (stream.write(text, "latin1")) drained();
      else stream.once("drain", drained);
    });
  try {
    let bytes = 0;
    let copies = 0;
    let reported = 0;
    await write(header);
    bytes += header.length;
    while (copies === 0 || bytes + trailer.length < targetBytes) {
      const copy = shifted(instances, copies * stride);
      await write(copy);
      bytes += copy.length;
      copies += 1;
      if (bytes - reported >= targetBytes / 10) {
        reported = bytes;
        progress(bytes, targetBytes);
      }
    }
    await write(trailer);
    bytes += trailer.length;
    await new Promise((resolve, reject) => {
      stream.once("error", reject);
      stream.end(resolve);
    });
    renameSync(partial, out);
    return { out, bytes, copies, source };
  } catch (error) {
    stream.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const [source, targetMb, out] = process.argv.slice(2);
  if (!source || !out || !(Number(targetMb) > 0)) {
    console.error("usage: node scripts/gen-large-ifc.mjs SOURCE.ifc TARGET_MB OUT.ifc");
    process.exit(2);
  }
  const mb = (bytes) => (bytes / 1e6).toFixed(0);
  const result = await generateLargeIfc(source, Number(targetMb) * 1e6, out, (bytes, target) =>
    console.error(`gen-large-ifc: ${mb(bytes)} of ${mb(target)} MB`),
  );
  console.log(JSON.stringify(result));
}
