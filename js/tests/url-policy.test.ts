import { describe, expect, it } from "vitest";
import { checkMediaUrl, isLoopbackHostname, type UrlVerdict } from "../url-policy";

const PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const OWN_BLOB = "blob:http://localhost:8888/6f1c2a4e-1b2c-4d5e-8f90-123456789abc";
const FOREIGN_BLOB = "blob:https://evil.example/0b1c2a4e-1b2c-4d5e-8f90-123456789abc";
const own = { ownBlobUrls: new Set([OWN_BLOB]) };

function expectOk(v: UrlVerdict): string {
  if (!v.ok) {
    throw new Error(`expected ok, got refusal: ${v.reason}`);
  }
  return v.url;
}

function expectRefused(v: UrlVerdict): string {
  if (v.ok) {
    throw new Error(`expected a refusal, got ok: ${v.url}`);
  }
  expect(v.reason.length).toBeGreaterThan(0);
  return v.reason;
}

describe("checkMediaUrl: allowed", () => {
  it.each([
    ["https image", "https://cdn.example.com/out/1.png", "https://cdn.example.com/out/1.png"],
    ["https with query and port", "https://example.com:8443/a.webp?sig=abc&x=1", "https://example.com:8443/a.webp?sig=abc&x=1"],
    ["HTTPS upper-case scheme", "HTTPS://Example.COM/a.png", "https://example.com/a.png"],
    ["https, surrounding whitespace trimmed", "  https://example.com/a.png\n", "https://example.com/a.png"],
    ["http 127.0.0.1 with port", "http://127.0.0.1:5000/x.png", "http://127.0.0.1:5000/x.png"],
    ["http localhost", "http://localhost/x.png", "http://localhost/x.png"],
    ["http LOCALHOST upper-case", "http://LOCALHOST:8000/x.png", "http://localhost:8000/x.png"],
    ["http [::1] with port", "http://[::1]:8000/a.png", "http://[::1]:8000/a.png"],
    ["http long-form IPv6 loopback", "http://[0:0:0:0:0:0:0:1]/a.png", "http://[::1]/a.png"],
    ["http anywhere in 127/8", "http://127.255.0.9/v.mp4", "http://127.255.0.9/v.mp4"],
    ["http 127/8 as hex (parser canonicalises)", "http://0x7f.1/x.png", "http://127.0.0.1/x.png"],
    ["http 127.0.0.1 as one integer", "http://2130706433/x.png", "http://127.0.0.1/x.png"],
  ])("%s", (_name, raw, url) => {
    expect(checkMediaUrl(raw)).toEqual({ ok: true, url });
  });

  it.each([
    ["png", `data:image/png;base64,${PNG_B64}`],
    ["jpeg", "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2w=="],
    ["webp", "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="],
    ["gif", "data:image/gif;base64,R0lGODlhAQABAAAAACw="],
    ["upper-case mime", `DATA:IMAGE/PNG;BASE64,${PNG_B64}`],
  ])("data:image/%s;base64 is allowed unchanged", (_name, raw) => {
    expect(checkMediaUrl(raw)).toEqual({ ok: true, url: raw });
  });

  it("own blob: URL is allowed", () => {
    expect(checkMediaUrl(OWN_BLOB, own)).toEqual({ ok: true, url: OWN_BLOB });
  });

  it("loopback http is allowed when allowLoopbackHttp is true or unset", () => {
    expectOk(checkMediaUrl("http://localhost/x.png", { allowLoopbackHttp: true }));
    expectOk(checkMediaUrl("http://localhost/x.png", {}));
  });
});

describe("checkMediaUrl: refused", () => {
  it.each([
    // [name, raw, word the reason must contain]
    ["empty", "", "empty"],
    ["only whitespace", "   \t\n ", "empty"],
    ["only control chars", "\u0000\u0001\u001f", "empty"],
    ["javascript:", "javascript:alert(1)", "javascript:"],
    ["JavaScript: mixed case", "JavaScript:alert(1)", "javascript:"],
    ["leading spaces", "  javascript:alert(1)", "javascript:"],
    ["leading control chars", "\u0001\u0008 javascript:alert(1)", "javascript:"],
    ["leading tab and newline", "\t\njavascript:alert(1)", "javascript:"],
    ["tab inside the scheme", "java\tscript:alert(1)", "control characters"],
    ["newline inside the scheme", "java\nscript:alert(1)", "control characters"],
    ["vbscript:", "vbscript:msgbox(1)", "vbscript:"],
    ["VBScript: mixed case", "VBScript:msgbox(1)", "vbscript:"],
    ["file:", "file:///etc/passwd", "file:"],
    ["ftp:", "ftp://example.com/a.png", "ftp:"],
    ["ws:", "ws://localhost:5000/hub", "ws:"],
    ["data:text/html", "data:text/html,<script>alert(1)</script>", "text/html"],
    ["data:text/html;base64", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "text/html"],
    ["data:image/svg+xml;base64", "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+", "image/svg+xml"],
    ["data:image/svg+xml plain", "data:image/svg+xml,<svg onload=alert(1)>", "image/svg+xml"],
    ["data: with no type", "data:,hello", "(none)"],
    ["data:image/png without base64", "data:image/png,rawbytes", "base64"],
    ["data:image/png with bad base64", "data:image/png;base64,<script>", "base64"],
    ["data:image/png with extra parameter", `data:image/png;charset=utf-8;base64,${PNG_B64}`, "base64"],
    ["relative path", "/files/x.png", "absolute"],
    ["relative file name", "x.png", "absolute"],
    ["protocol-relative", "//example.com/x.png", "absolute"],
    ["unparseable", "http://[::1/x.png", "absolute"],
    ["scheme only", "https:", "absolute"],
    ["http to a public host", "http://example.com/x.png", "example.com"],
    ["http to a private LAN host", "http://192.168.1.10/x.png", "192.168.1.10"],
    ["http to 0.0.0.0", "http://0.0.0.0:8000/x.png", "0.0.0.0"],
    ["http lookalike 127.0.0.1.evil.com", "http://127.0.0.1.evil.com/x", "127.0.0.1.evil.com"],
    ["http lookalike localhost.evil.com", "http://localhost.evil.com/x", "localhost.evil.com"],
    ["http userinfo trick", "http://localhost@evil.com/x.png", "credentials"],
    ["http sub.localhost", "http://a.localhost/x.png", "a.localhost"],
    ["http IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/x.png", "loopback"],
    ["foreign blob:", FOREIGN_BLOB, "blob:"],
  ])("%s", (_name, raw, word) => {
    const reason = expectRefused(checkMediaUrl(raw, own));
    expect(reason.toLowerCase()).toContain(word.toLowerCase());
  });

  it("blob: is refused when no own set is given", () => {
    expect(expectRefused(checkMediaUrl(OWN_BLOB))).toMatch(/not created by this widget/);
  });

  it("blob: must match exactly (no prefix or case games)", () => {
    expectRefused(checkMediaUrl(`${OWN_BLOB}x`, own));
    expectRefused(checkMediaUrl(OWN_BLOB.toUpperCase(), own));
  });

  it.each(["http://localhost/x.png", "http://127.0.0.1:5000/x.png", "http://[::1]:8000/a.png"])(
    "loopback http %s is refused when allowLoopbackHttp is false",
    (raw) => {
      expect(expectRefused(checkMediaUrl(raw, { allowLoopbackHttp: false }))).toMatch(/disabled/);
    },
  );

  it("allowLoopbackHttp: false does not affect https", () => {
    expectOk(checkMediaUrl("https://example.com/a.png", { allowLoopbackHttp: false }));
  });

  it("reasons are short and printable even for huge or control-laden input", () => {
    const reason = expectRefused(checkMediaUrl(`foo:${"A".repeat(10_000)}\u0007`));
    expect(reason.length).toBeLessThan(200);
    const rel = expectRefused(checkMediaUrl(`x\u0007${"y".repeat(500)}`));
    expect(rel).not.toMatch(/\u0007/);
    expect(rel.length).toBeLessThan(200);
  });
});

describe("checkMediaUrl: never throws", () => {
  it.each<[unknown]>([
    [null],
    [undefined],
    [42],
    [{}],
    [[]],
    [Symbol("x")],
    [{ toString: () => { throw new Error("boom"); } }],
    ["\uD800"],
    ["%"],
    ["http://%zz/"],
    ["https://exa mple.com/"],
  ])("input %#", (raw) => {
    const verdict = checkMediaUrl(raw as string);
    expect(typeof verdict.ok).toBe("boolean");
  });

  it("non-strings are refused", () => {
    expect(expectRefused(checkMediaUrl(42 as unknown as string))).toMatch(/not a string/);
  });
});

describe("isLoopbackHostname", () => {
  it.each([
    ["localhost", true],
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["[::1]", true],
    ["::1", false],
    ["128.0.0.1", false],
    ["127.0.0.1.evil.com", false],
    ["localhost.evil.com", false],
    ["", false],
  ])("%s -> %s", (host, expected) => {
    expect(isLoopbackHostname(host)).toBe(expected);
  });
});
