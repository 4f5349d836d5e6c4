// Media URL policy: decides whether a URL coming from the kernel may be put
// into an <img>/<video> element. Pure, never throws.

export type UrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

export interface UrlPolicyOptions {
  /** Allow plain `http:` to loopback hosts (localhost, 127.0.0.0/8, [::1]). Default true. */
  allowLoopbackHttp?: boolean;
  /** `blob:` URLs this widget created itself; only these exact URLs are allowed. */
  ownBlobUrls?: ReadonlySet<string>;
}

/** Raster image types allowed in `data:` URLs (no SVG: it can carry script). */
const DATA_IMAGE_RE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]*={0,2}$/i;
const DATA_MIME_RE = /^data:([^;,]*)/i;
const IPV4_LOOPBACK_RE = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// C0 controls and space, which the URL parser also strips at both ends.
const EDGE_JUNK_RE = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;
// Inside a URL, the parser drops tabs and newlines silently; the kernel refuses them, so the browser does too.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// Cloud metadata services that are not link-local (those are refused as link-local), as the URL parser writes
// them: AWS's IPv6 one, Alibaba's, Azure's wire server, and GCP's names. As conduit_widget/url_policy.py.
const METADATA_HOSTS: ReadonlySet<string> = new Set([
  "[fd00:ec2::254]",
  "100.100.100.200",
  "168.63.129.16",
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
]);
const MAX_SHOWN = 60;

function refuse(reason: string): UrlVerdict {
  return { ok: false, reason };
}

/** A short, printable form of a URL for error messages. */
function shorten(s: string): string {
  const printable = s.replace(/[\u0000-\u001f\u007f]/g, "?");
  return printable.length > MAX_SHOWN ? `${printable.slice(0, MAX_SHOWN)}…` : printable;
}

/** True for hosts that are loopback by definition: localhost, 127.0.0.0/8, [::1]. */
export function isLoopbackHostname(hostname: string): boolean {
  // `hostname` comes from the WHATWG URL parser, so it is lower-cased, IPv4 is
  // canonical dotted-quad (0x7f.1 -> 127.0.0.1) and IPv6 is compressed ([::1]).
  return hostname === "localhost" || hostname === "[::1]" || IPV4_LOOPBACK_RE.test(hostname);
}

/** The IPv4 address in a parsed hostname (dotted, or mapped into IPv6 as [::ffff:a9fe:a9fe]), or null. */
function ipv4Of(hostname: string): number[] | null {
  const dotted = IPV4_RE.exec(hostname);
  if (dotted) {
    return dotted.slice(1).map(Number);
  }
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(hostname);
  if (mapped) {
    const high = parseInt(mapped[1] ?? "0", 16);
    const low = parseInt(mapped[2] ?? "0", 16);
    return [high >> 8, high & 255, low >> 8, low & 255];
  }
  return null;
}

/** Why no one may load from this (parsed, canonical) hostname, or null. */
export function forbiddenHost(hostname: string): string | null {
  const name = hostname.replace(/\.$/, "");
  if (METADATA_HOSTS.has(name)) {
    return `${name} is a cloud metadata service`;
  }
  const v4 = ipv4Of(name);
  if (v4) {
    const [a, b] = v4;
    if (METADATA_HOSTS.has(v4.join("."))) {
      return `${name} is a cloud metadata service`;
    }
    if (a === 169 && b === 254) {
      return `${name} is a link-local address (where cloud metadata services answer)`;
    }
    if (v4.every((n) => n === 0) || (a !== undefined && a >= 224 && a <= 239)) {
      return `${name} is not an address media can come from`;
    }
    return null;
  }
  if (name.startsWith("[")) {
    const first = parseInt(name.slice(1).split(":")[0] || "0", 16);
    if (first >= 0xfe80 && first <= 0xfebf) {
      return `${name} is a link-local address (where cloud metadata services answer)`;
    }
    if (name === "[::]" || first >= 0xff00) {
      return `${name} is not an address media can come from`;
    }
  }
  return null;
}

export function checkMediaUrl(raw: string, opts: UrlPolicyOptions = {}): UrlVerdict {
  try {
    return check(raw, opts);
  } catch {
    // Defensive only: nothing in check() is expected to throw.
    return refuse("URL could not be checked");
  }
}

function check(raw: unknown, opts: UrlPolicyOptions): UrlVerdict {
  if (typeof raw !== "string") {
    return refuse("URL is not a string");
  }
  const trimmed = raw.replace(EDGE_JUNK_RE, "");
  if (trimmed === "") {
    return refuse("URL is empty");
  }

  if (CONTROL_RE.test(trimmed)) {
    return refuse("URL has control characters (a tab, a newline) inside it");
  }

  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return refuse(`not an absolute URL: "${shorten(trimmed)}" (relative or unparseable URLs are refused)`);
  }

  const scheme = parsed.protocol.toLowerCase();
  if ((scheme === "https:" || scheme === "http:") && (parsed.username !== "" || parsed.password !== "")) {
    // The browser would send them to the host: a credential has no place in a media URL (the kernel refuses too).
    return refuse("URLs with credentials in them are not shown");
  }
  if (scheme === "https:" || scheme === "http:") {
    const forbidden = forbiddenHost(parsed.hostname);
    if (forbidden) {
      return refuse(`media are never loaded from ${forbidden}`);
    }
  }
  switch (scheme) {
    case "https:":
      return { ok: true, url: parsed.href };

    case "http:": {
      if (!isLoopbackHostname(parsed.hostname)) {
        return refuse(
          `plain http: is only allowed for loopback hosts (localhost, 127.0.0.0/8, [::1]), not "${shorten(parsed.hostname)}"; use https:`,
        );
      }
      if (opts.allowLoopbackHttp === false) {
        return refuse(`plain http: is disabled, even to loopback host "${parsed.hostname}"`);
      }
      return { ok: true, url: parsed.href };
    }

    case "blob:": {
      if (opts.ownBlobUrls?.has(trimmed)) {
        return { ok: true, url: trimmed };
      }
      return refuse("blob: URL was not created by this widget");
    }

    case "data:": {
      if (DATA_IMAGE_RE.test(trimmed)) {
        return { ok: true, url: trimmed };
      }
      const mime = DATA_MIME_RE.exec(trimmed)?.[1]?.trim().toLowerCase() ?? "";
      if (/^image\/(png|jpeg|webp|gif)$/.test(mime)) {
        return refuse(`data:${mime} URL must be base64-encoded (";base64,") with a valid base64 payload`);
      }
      return refuse(
        `data: URL of type "${shorten(mime || "(none)")}" is not allowed (only base64 image/png, image/jpeg, image/webp, image/gif)`,
      );
    }

    default:
      return refuse(`scheme "${shorten(scheme)}" is not allowed (only https:, loopback http:, own blob:, base64 image data:)`);
  }
}
