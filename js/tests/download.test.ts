// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { allowedType, downloadLink, downloadName, fetchMedia, sniffType } from "../download";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
const MP4 = [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d];
const NAME = /^conduit-[A-Za-z0-9]{1,8}-\d{1,4}\.(png|jpg|webp|gif|avif|mp4|webm|ogv|mov)$/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("downloadName: the task's letters and digits, an index, an allowed type's extension", () => {
  it.each([
    ["3f2a9c1d-7b6e", 0, "image/png", "image", "conduit-3f2a9c1d-1.png"],
    ["3f2a9c1d-7b6e", 1, "image/jpeg", "image", "conduit-3f2a9c1d-2.jpg"],
    ["task_0123456789abcdef", 0, "video/webm", "video", "conduit-01234567-1.webm"], // as save() and the CLI name it
    ["abc", 0, "video/mp4; codecs=avc1", "video", "conduit-abc-1.mp4"],
    ["abc", 0, "text/html", "image", "conduit-abc-1.png"], // never the server's type
    ["abc", 0, "image/svg+xml", "image", "conduit-abc-1.png"],
    ["abc", 0, "image/png", "video", "conduit-abc-1.mp4"], // a type of the other kind is no type
    ["abc", 0, "application/x-msdownload", "video", "conduit-abc-1.mp4"],
    ["", 2, "", "image", "conduit-result-3.png"],
    ["../../etc/passwd", 0, "video/mp4", "video", "conduit-etcpassw-1.mp4"],
    ["..\\..\\boot.ini", 0, "", "image", "conduit-bootini-1.png"],
    [".bashrc", 0, "", "image", "conduit-bashrc-1.png"],
    ["a\u0000b\u001b]0;x\u0007\u202ec", 0, "", "image", "conduit-ab0xc-1.png"],
    ["x", -1, "", "image", "conduit-x-1.png"],
    ["x", Number.NaN, "", "image", "conduit-x-1.png"],
    ["x", 1e12, "", "image", "conduit-x-1.png"],
  ] as const)("%j #%s %s -> %s", (taskId, index, mime, kind, name) => {
    expect(downloadName(taskId, index, mime, kind)).toBe(name);
  });

  it("holds for any task id and type: a bounded name of safe characters, no separator, no leading dot", () => {
    const alphabet = "aZ09_-./\\:\u0000\u001b\u007f\u0085\u202e\u2066 <>\"'|?*%;,éあ😀";
    let seed = 17;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = (length: number): string =>
      Array.from({ length }, () => [...alphabet][random([...alphabet].length)]).join("");
    for (let i = 0; i < 2000; i += 1) {
      const name = downloadName(text(random(80)), random(1200) - 100, text(random(30)), random(2) ? "image" : "video");
      expect(name).toMatch(NAME);
      expect(name.length).toBeLessThanOrEqual(32);
    }
  });
});

describe("allowedType and sniffType", () => {
  it.each([
    ["image/png", "image", "image/png"],
    ["IMAGE/JPEG; charset=binary", "image", "image/jpeg"],
    ["image/svg+xml", "image", ""],
    ["text/html", "image", ""],
    ["video/mp4", "image", ""],
    ["video/quicktime", "video", "video/quicktime"],
  ] as const)("%s as %s -> %j", (mime, kind, allowed) => {
    expect(allowedType(mime, kind)).toBe(allowed);
  });

  it.each([
    [PNG, "image/png"],
    [[0xff, 0xd8, 0xff, 0xe0], "image/jpeg"],
    [[...new TextEncoder().encode("GIF89a")], "image/gif"],
    [[...new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")], "image/webp"],
    [MP4, "video/mp4"],
    [[0x1a, 0x45, 0xdf, 0xa3], "video/webm"],
    [[...new TextEncoder().encode("<svg xmlns=")], ""],
    [[...new TextEncoder().encode("<!DOCTYPE html>")], ""],
    [[], ""],
  ])("%j -> %j", (head, type) => {
    expect(sniffType(new Uint8Array(head))).toBe(type);
  });
});

describe("fetchMedia: a remote file kept only as an allowed image or video, of a forced type", () => {
  const serve = (body: BodyInit | null, headers: Record<string, string> = {}, status = 200) =>
    vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => new Response(body, { status, headers }));

  it("asks without the user's cookies or a referrer", async () => {
    const fetcher = serve(new Uint8Array(PNG), { "content-type": "image/png" });
    await fetchMedia("https://cdn.example/a.png", "image", fetcher);
    expect(fetcher).toHaveBeenCalledWith("https://cdn.example/a.png", {
      credentials: "omit",
      referrerPolicy: "no-referrer",
      mode: "cors",
    });
  });

  it.each([
    ["<html><script>alert(1)</script></html>", "text/html", /not an image \(type "text\/html"\)/],
    ['<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml", /not an image \(type "image\/svg\+xml"\)/],
    ["<html>", "image/svg+xml\u001b[2J", /type "image\/svg\+xml\?\[2J"/],
    [new Uint8Array(MP4), "video/mp4", /not an image/], // a video where an image was promised
  ])("refuses %j declared %j", async (body, type, reason) => {
    const fetched = await fetchMedia("https://cdn.example/a.png", "image", serve(body, { "content-type": type }));
    expect(fetched.ok).toBe(false);
    expect(fetched.ok ? "" : fetched.reason).toMatch(reason);
  });

  it("keeps an image whatever type the server declared, typed by its bytes", async () => {
    const fetched = await fetchMedia("https://cdn.example/a", "image", serve(new Uint8Array(PNG), { "content-type": "text/html" }));
    expect(fetched.ok && [fetched.mime, fetched.blob.type, fetched.blob.size]).toEqual(["image/png", "image/png", PNG.length]);
  });

  it("takes the declared type only when the bytes show none and it is an allowed one", async () => {
    const ogv = await fetchMedia("https://cdn.example/v", "video", serve("\u0000unknown", { "content-type": "video/ogg" }));
    expect(ogv.ok && ogv.blob.type).toBe("video/ogg");
  });

  it("stops at the cap, said by Content-Length or counted as bytes arrive", async () => {
    const declared = await fetchMedia("https://cdn.example/a", "image", serve(new Uint8Array(PNG), { "content-length": "999" }), 100);
    expect(declared.ok ? "" : declared.reason).toMatch(/larger than/);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64));
      },
    });
    const counted = await fetchMedia("https://cdn.example/a", "image", serve(endless), 1000);
    expect(counted.ok ? "" : counted.reason).toMatch(/larger than/);
    expect(pulled).toBeLessThan(40);
  });

  it("says why when the server cannot be read or refuses", async () => {
    const cors = await fetchMedia("https://cdn.example/a", "image", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    expect(cors.ok ? "" : cors.reason).toMatch(/could not be reached, or does not let this page read its files \(CORS\)/);
    const missing = await fetchMedia("https://cdn.example/a", "image", serve("gone", {}, 404));
    expect(missing.ok ? "" : missing.reason).toBe("the server answered HTTP 404");
  });
});

describe("downloadLink", () => {
  const options = (fetcher?: typeof fetch) => ({
    taskId: "task_0123456789",
    index: 0,
    kind: "image" as const,
    label: "image",
    onProblem: vi.fn(),
    signal: new AbortController().signal,
    ...(fetcher === undefined ? {} : { fetcher }),
  });

  it("an embedded result: its own blob: URL, saved under the widget's name, in no new tab", () => {
    const link = downloadLink({ url: "blob:http://localhost:8888/1", mime: "image/webp" }, options());
    expect(link.getAttribute("href")).toBe("blob:http://localhost:8888/1");
    expect(link.getAttribute("download")).toBe("conduit-01234567-1.webp");
    expect(link.rel).toBe("noopener noreferrer");
    expect(link.hasAttribute("target")).toBe(false);
  });

  it("a data: image: the URL (the policy let only base64 raster images through), typed by it", () => {
    const link = downloadLink({ url: "data:image/gif;base64,R0lGODlh", mime: "" }, options());
    expect(link.getAttribute("download")).toBe("conduit-01234567-1.gif");
    expect(link.getAttribute("href")).toBe("data:image/gif;base64,R0lGODlh");
  });

  it("a remote URL: nothing to open (no href, no target), a button that fetches on click or Enter", async () => {
    const fetcher = vi.fn(async () => new Response("<h1>phish</h1>", { headers: { "content-type": "text/html" } }));
    const opts = options(fetcher as unknown as typeof fetch);
    const link = downloadLink({ url: "https://cdn.example/a.png", mime: "" }, opts);
    expect(link.hasAttribute("href")).toBe(false);
    expect(link.hasAttribute("target")).toBe(false);
    expect(link.getAttribute("role")).toBe("button");
    expect(link.tabIndex).toBe(0);
    const click = new MouseEvent("click", { cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(opts.onProblem).toHaveBeenCalledTimes(1));
    expect(opts.onProblem).toHaveBeenCalledWith('Could not download the image: the file is not an image (type "text/html").');
    link.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", cancelable: true }));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(2));
  });
});
