// The browser's URL policy on the cases the kernel's is tested with (tests/shared/url_policy_cases.json).
import { describe, expect, it } from "vitest";
import casesText from "../../tests/shared/url_policy_cases.json?raw";
import { checkMediaUrl } from "../url-policy";

interface Case {
  name: string;
  url: string;
  allowed: boolean;
}

const cases = (JSON.parse(casesText) as { cases: Case[] }).cases;

describe("the shared URL policy cases", () => {
  it("are there", () => {
    expect(cases.length).toBeGreaterThan(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(checkMediaUrl(c.url).ok).toBe(c.allowed);
  });
});
