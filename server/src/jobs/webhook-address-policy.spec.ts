import { checkAddress, resolveWebhookTarget, setWebhookLookupForTests } from './webhook-address-policy';

const STRICT = { allowPrivate: false };
const ON_PREMISE = { allowPrivate: true };

function reasonOf(address: string, policy = STRICT): string {
  const verdict = checkAddress(address, policy);
  if (verdict.allowed) throw new Error(`${address} was allowed`);
  return verdict.reason;
}

describe('webhook address policy', () => {
  it('allows public unicast addresses, IPv4 and IPv6', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34']) {
      expect(checkAddress(address, STRICT)).toEqual({ allowed: true });
    }
  });

  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['::1', /loopback/],
    ['10.0.0.1', /private \(RFC 1918\)/],
    ['172.16.5.4', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['fe80::1', /link-local/],
    ['169.254.1.1', /link-local/],
  ])('refuses %s by default as a private kind of address (%s) and names the switch', (address, kind) => {
    const reason = reasonOf(address);
    expect(reason).toMatch(kind);
    expect(reason).toMatch(/WEBHOOK_ALLOW_PRIVATE=true/);
    expect(checkAddress(address, ON_PREMISE)).toEqual({ allowed: true });
  });

  it.each([
    ['169.254.169.254', /cloud metadata/],
    ['fd00:ec2::254', /cloud metadata/],
    ['::ffff:169.254.169.254', /cloud metadata/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['192.0.2.10', /special-purpose range \(reserved\)/],
    ['2002:7f00:1::', /special-purpose range \(6to4\)/],
    ['64:ff9b::7f00:1', /special-purpose range \(rfc6052\)/],
  ])('refuses %s even with WEBHOOK_ALLOW_PRIVATE (%s)', (address, kind) => {
    expect(reasonOf(address)).toMatch(kind);
    expect(reasonOf(address, ON_PREMISE)).toMatch(kind);
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(reasonOf('::ffff:127.0.0.1')).toMatch(/^127\.0\.0\.1 is a loopback address/);
    expect(reasonOf('::ffff:10.1.2.3')).toMatch(/^10\.1\.2\.3 is a private/);
    expect(reasonOf('::ffff:7f00:1')).toMatch(/loopback/);
  });

  it('refuses what is not an IP address', () => {
    expect(reasonOf('example.com')).toMatch(/not an IP address/);
  });
});

describe('webhook targets', () => {
  afterEach(() => setWebhookLookupForTests(undefined));

  it('checks IP literals as written, after URL normalisation (0x7f.1, decimal, bracketed IPv6)', async () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://0x7f.1/x', 'http://2130706433/x', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x']) {
      const verdict = await resolveWebhookTarget(url, STRICT);
      expect(verdict).toMatchObject({ allowed: false, retryable: false });
      expect(!verdict.allowed && verdict.reason).toMatch(/loopback/);
    }
    expect(await resolveWebhookTarget('http://169.254.169.254/latest/meta-data', ON_PREMISE)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/metadata/),
    });
    expect(await resolveWebhookTarget('https://93.184.216.34/hook', STRICT)).toMatchObject({
      allowed: true,
      addresses: [{ address: '93.184.216.34', family: 4 }],
    });
  });

  it('refuses other schemes and non-URLs', async () => {
    expect(await resolveWebhookTarget('ftp://example.com/x', STRICT)).toMatchObject({ allowed: false, reason: expect.stringMatching(/http\(s\) URL/) });
    expect(await resolveWebhookTarget('file:///etc/passwd', STRICT)).toMatchObject({ allowed: false, retryable: false });
    expect(await resolveWebhookTarget('not a url', STRICT)).toMatchObject({ allowed: false, reason: 'it is not a URL' });
  });

  it('resolves a name and refuses it when any of its addresses is refused', async () => {
    const asked: string[] = [];
    setWebhookLookupForTests(async (hostname) => {
      asked.push(hostname);
      if (hostname === 'public.example') return [{ address: '93.184.216.34', family: 4 }];
      if (hostname === 'mixed.example')
        return [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ];
      if (hostname === 'mapped.example') return [{ address: '::ffff:127.0.0.1', family: 6 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    });
    expect(await resolveWebhookTarget('https://public.example/hook', STRICT)).toMatchObject({
      allowed: true,
      hostname: 'public.example',
      addresses: [{ address: '93.184.216.34', family: 4 }],
    });
    expect(await resolveWebhookTarget('https://mixed.example/hook', STRICT)).toMatchObject({
      allowed: false,
      retryable: false,
      reason:
        'mixed.example resolves to a refused address: 10.0.0.7 is a private (RFC 1918) address; set WEBHOOK_ALLOW_PRIVATE=true for a receiver on your own network',
    });
    expect(await resolveWebhookTarget('https://mixed.example/hook', ON_PREMISE)).toMatchObject({ allowed: true });
    expect(await resolveWebhookTarget('https://mapped.example/hook', STRICT)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/127\.0\.0\.1 is a loopback/),
    });
    // A name that does not resolve may resolve later: retryable, not refused.
    expect(await resolveWebhookTarget('https://gone.example/hook', STRICT)).toMatchObject({
      allowed: false,
      retryable: true,
      reason: 'could not resolve gone.example (ENOTFOUND)',
    });
    expect(asked).toEqual(['public.example', 'mixed.example', 'mixed.example', 'mapped.example', 'gone.example']);
  });
});
