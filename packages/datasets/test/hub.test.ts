/**
 * The Hugging Face hub fallback against a hub stand-in on 127.0.0.1 that
 * serves the shared data samples in the hub's URL layout
 * (`/datasets/{repo}/resolve/{revision}/{path}`, with Range requests).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Llama2cTokenizer, fetchHubFile, hubSettingsFromEnv } from '../src/index.js';
import { allRecords, createDataset, zstdRawFrame } from './helpers.js';
import { hubFixtures, type HubFixture } from './hub-fixtures.js';
import { sharedData, tok512Path } from './paths.js';

const C4_REVISION = '607bd4c8450a42878aa9ddc051a65a055450ef87';

/** Repository files the stand-in serves, built from the shared samples and the small fixtures. */
async function hubFiles(): Promise<Map<string, Buffer>> {
  const c4 = await readFile(join(sharedData, 'c4/c4-en-train.00000-of-01024.sample.json'));
  const stories = await readFile(join(sharedData, 'tinystories/TinyStoriesV2-GPT4-train.sample.txt'));
  const pile = await readFile(join(sharedData, 'the_pile/pile.sample.jsonl'));
  return new Map([
    [`allenai/c4/${C4_REVISION}/en/c4-train.00000-of-01024.json.gz`, gzipSync(c4)],
    ['monology/pile-uncopyrighted/main/train/00.jsonl.zst', zstdRawFrame(pile)],
    ['roneneldan/TinyStories/main/TinyStoriesV2-GPT4-train.txt', stories],
    ...hubFixtures().map((fixture): [string, Buffer] => [`${fixture.repo}/${fixture.revision}/${fixture.path}`, fixture.body]),
  ]);
}

/** The snapshot folder a download is stored in: the revision with "/" written as "%2F". */
function snapshotPath(fixture: HubFixture, root: string): string {
  return join(root, `datasets--${fixture.repo.replace('/', '--')}`, 'snapshots', fixture.revision.split('/').join('%2F'), fixture.path);
}

interface HubStandIn {
  server: Server;
  endpoint: string;
  requests: { method: string; url: string; range?: string }[];
}

async function startHub(files: Map<string, Buffer>): Promise<HubStandIn> {
  const requests: HubStandIn['requests'] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', range: request.headers.range });
    const match = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURI((request.url ?? '').split('?')[0]));
    const body = match ? files.get(`${match[1]}/${decodeURIComponent(match[2])}/${match[3]}`) : undefined;
    if (body === undefined) {
      response.writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'Content-Type': 'text/plain' });
      response.end('Entry not found');
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1, ETag: '"stand-in"' });
      response.end(body.subarray(start, end + 1));
      return;
    }
    response.writeHead(200, { 'Content-Length': body.length, ETag: '"stand-in"' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, requests };
}

let hub: HubStandIn;
let cacheDir: string;
let tokenizer: Llama2cTokenizer;

beforeAll(async () => {
  hub = await startHub(await hubFiles());
  cacheDir = await mkdtemp(join(tmpdir(), 'sculpt-hub-cache-'));
  tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
});

afterAll(async () => {
  await new Promise<void>((resolve) => hub.server.close(() => resolve()));
  await rm(cacheDir, { recursive: true, force: true });
});

describe('hub fallback', () => {
  it('downloads the pinned C4 shard when no local file exists', async () => {
    const emptyDataDir = await mkdtemp(join(tmpdir(), 'sculpt-empty-data-'));
    try {
      const c4 = await createDataset('c4', { dataDir: emptyDataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false });
      const set = await c4.calibration({ tokenizer, format: 'window', nsamples: 2, seqlen: 64, seed: 0 });
      expect(set.samples.map((sample) => sample.length)).toEqual([64, 64]);
      const cached = join(cacheDir, 'datasets--allenai--c4', 'snapshots', C4_REVISION, 'en', 'c4-train.00000-of-01024.json.gz');
      expect(set.provenance[0].records[0].file).toBe(`hf://datasets/allenai/c4@${C4_REVISION}/en/c4-train.00000-of-01024.json.gz`);
      expect((await stat(cached)).isFile()).toBe(true);
      expect(hub.requests.every((request) => request.url.startsWith(`/datasets/allenai/c4/resolve/${C4_REVISION}/`))).toBe(true);
    } finally {
      await rm(emptyDataDir, { recursive: true, force: true });
    }
  });

  it('serves a cached file offline without requests', async () => {
    const before = hub.requests.length;
    const file = { repo: 'allenai/c4', revision: C4_REVISION, path: 'en/c4-train.00000-of-01024.json.gz' };
    const path = await fetchHubFile(file, { endpoint: hub.endpoint, cacheDir, offline: true });
    expect(path.startsWith(cacheDir)).toBe(true);
    expect(hub.requests.length).toBe(before);
  });

  it('fails clearly offline when the file is not cached', async () => {
    const stories = await createDataset('tinystories', { hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: true });
    await expect(stories.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 32, seed: 0 })).rejects.toThrow(
      /roneneldan\/TinyStories@main:TinyStoriesV2-GPT4-train\.txt is not in the Hugging Face cache .* and HF_HUB_OFFLINE is set/,
    );
  });

  it('downloads a text corpus by branch name', async () => {
    const stories = await createDataset('tinystories', { hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false });
    const set = await stories.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 32, seed: 0 });
    expect(set.samples[0].length).toBe(32);
    expect(set.provenance[0].records[0].file).toBe('hf://datasets/roneneldan/TinyStories@main/TinyStoriesV2-GPT4-train.txt');
    expect((await stat(join(cacheDir, 'datasets--roneneldan--TinyStories', 'snapshots', 'main', 'TinyStoriesV2-GPT4-train.txt'))).isFile()).toBe(true);
  });

  it('streams a Zstandard Pile shard', async () => {
    const pile = await createDataset('pile', { hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false });
    const set = await pile.calibration({ tokenizer, format: 'window', nsamples: 2, seqlen: 128, seed: 0 });
    expect(set.samples.map((sample) => sample.length)).toEqual([128, 128]);
    expect(set.provenance[0].records[0].file).toBe('hf://datasets/monology/pile-uncopyrighted@main/train/00.jsonl.zst');
  });

  it('reports a file the hub does not have', async () => {
    const file = { repo: 'allenai/c4', revision: 'main', path: 'en/missing.json.gz' };
    await expect(fetchHubFile(file, { endpoint: hub.endpoint, cacheDir, offline: false })).rejects.toThrow(/allenai\/c4@main:en\/missing\.json\.gz was not found on http:\/\/127\.0\.0\.1:\d+/);
  });

  it('reads the hub settings from the environment', () => {
    const settings = hubSettingsFromEnv({ HF_HOME: '/srv/hf', HF_ENDPOINT: 'http://127.0.0.1:1234/', HF_HUB_OFFLINE: '1' });
    expect(settings).toEqual({ endpoint: 'http://127.0.0.1:1234', cacheDir: '/srv/hf/hub', offline: true });
    expect(hubSettingsFromEnv({ HF_HUB_CACHE: '/cache', HF_HOME: '/srv/hf' }).cacheDir).toBe('/cache');
    expect(hubSettingsFromEnv({}).offline).toBe(false);
  });
});

/** One case per dataset (and WinoGrande size): the first fixture file of each. */
const datasetCases = hubFixtures().filter(
  (fixture, index, all) => all.findIndex((other) => other.dataset === fixture.dataset && JSON.stringify(other.options) === JSON.stringify(fixture.options)) === index,
);

describe('hub sources of the other datasets', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sculpt-empty-data-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(datasetCases.map((fixture) => [`${fixture.dataset}${fixture.options ? ` ${JSON.stringify(fixture.options)}` : ''}`, fixture] as const))(
    'downloads, reads and formats %s',
    async (_label, fixture) => {
      const hubOptions = { dataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false };
      const dataset = await createDataset(fixture.dataset, { ...hubOptions, ...fixture.options });

      const records = await allRecords(dataset, 'train');
      expect(records.length).toBe(fixture.records);
      expect(records[0].provenance.file).toBe(`hf://datasets/${fixture.repo}@${fixture.revision}/${fixture.path}`);
      expect(dataset.formatExample(records[0], fixture.format)).toBe(fixture.firstExample);
      expect((await stat(snapshotPath(fixture, cacheDir))).isFile()).toBe(true);

      const seqlen = fixture.format === 'window' ? 32 : 512;
      const set = await dataset.calibration({ tokenizer, format: fixture.format, nsamples: 2, seqlen, seed: 0 });
      expect(set.samples.map((sample) => sample.length)).toEqual([seqlen, seqlen]);
    },
  );

  it('reads every RedPajama sample shard', async () => {
    const redpajama = await createDataset('redpajama', { dataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false });
    const files = new Set((await allRecords(redpajama, 'train')).map((record) => record.provenance.file));
    expect([...files]).toEqual([
      'hf://datasets/togethercomputer/RedPajama-Data-V2@main/sample/documents/2023-06/0000/en_head.json.gz',
      'hf://datasets/togethercomputer/RedPajama-Data-V2@main/sample/documents/2023-06/0000/en_middle.json.gz',
    ]);
  });

  it('fails clearly offline when a converted file is not cached', async () => {
    const emptyCache = await mkdtemp(join(tmpdir(), 'sculpt-empty-cache-'));
    try {
      const winogrande = await createDataset('winogrande', { dataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: emptyCache, offline: true });
      const before = hub.requests.length;
      await expect(winogrande.calibration({ tokenizer, format: 'single', nsamples: 1, seqlen: 512, seed: 0 })).rejects.toThrow(
        /allenai\/winogrande@refs\/convert\/parquet:winogrande_m\/train\/0000\.parquet is not in the Hugging Face cache .* and HF_HUB_OFFLINE is set/,
      );
      expect(hub.requests.length).toBe(before);
    } finally {
      await rm(emptyCache, { recursive: true, force: true });
    }
  });

  it('finds a conversion file that Python cached under its commit', async () => {
    const pythonCache = await mkdtemp(join(tmpdir(), 'sculpt-python-cache-'));
    try {
      // huggingface_hub stores a branch's files under the commit and writes the commit to refs/<branch>.
      const fixture = datasetCases.find((candidate) => candidate.dataset === 'svamp')!;
      const commit = '0123456789abcdef0123456789abcdef01234567';
      const repoFolder = join(pythonCache, 'datasets--ChilleD--SVAMP');
      await mkdir(join(repoFolder, 'refs', 'refs', 'convert'), { recursive: true });
      await writeFile(join(repoFolder, 'refs', 'refs', 'convert', 'parquet'), `${commit}\n`);
      await mkdir(join(repoFolder, 'snapshots', commit, 'default', 'train'), { recursive: true });
      await writeFile(join(repoFolder, 'snapshots', commit, fixture.path), fixture.body);

      const before = hub.requests.length;
      const svamp = await createDataset('svamp', { dataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: pythonCache, offline: true });
      const records = await allRecords(svamp, 'train');
      expect(records.length).toBe(fixture.records);
      expect(hub.requests.length).toBe(before);
    } finally {
      await rm(pythonCache, { recursive: true, force: true });
    }
  });

  it('reports a split the hub source lacks', async () => {
    const oscar = await createDataset('oscar', { dataDir, hub: true, hubEndpoint: hub.endpoint, hubCacheDir: cacheDir, offline: false });
    await expect(allRecords(oscar, 'test')).rejects.toThrow(/no oscar files for split "test".*the hub source oscar-corpus\/oscar has no "test" split/);
  });
});
