// @vitest-environment jsdom
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, setCsrfToken, type AttachmentRef, type Message } from '../api';
import { attachmentNames, formatBytes, isImage, messageAttachments, opensInline } from '../lib/attachments';
import { wipeSessionMemory } from '../lib/wipe';
import MessageAttachments from '../components/MessageAttachments';
import { mount } from './mount';
import { AttachmentChips } from '../space/AttachmentPicker';
import { useAttachments, type Attachments } from '../space/useAttachments';


const file = (id: number, name: string, content_type: string, size = 68): AttachmentRef => ({ id, name, content_type, size, sha256: 'ab'.repeat(32) });

describe('file sizes', () => {
  it('reads as bytes, then one decimal below ten units, then whole units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(68)).toBe('68 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(10 * 1024 - 1)).toBe('10 KB');
    expect(formatBytes(200 * 1024)).toBe('200 KB');
    expect(formatBytes(3.4 * 1024 * 1024)).toBe('3.4 MB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25 MB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GB');
  });

  it('never shows 1024 of a unit', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MB');
    expect(formatBytes(1024 * 1024 - 300)).toBe('1 MB');
    expect(formatBytes(1024 ** 3 - 1)).toBe('1 GB');
  });

  it('shows nothing for a size that is not one', () => {
    expect(formatBytes(-1)).toBe('');
    expect(formatBytes(Number.NaN)).toBe('');
  });
});

describe('file types', () => {
  it('thumbnails the four image types and opens the types the server serves inline', () => {
    for (const t of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'IMAGE/PNG']) expect(isImage(t)).toBe(true);
    for (const t of ['image/svg+xml', 'application/pdf', 'text/plain', '']) expect(isImage(t)).toBe(false);
    for (const t of ['image/png', 'application/pdf', 'text/plain; charset=utf-8']) expect(opensInline(t)).toBe(true);
    for (const t of ['text/html', 'image/svg+xml', 'application/zip', 'application/octet-stream']) expect(opensInline(t)).toBe(false);
  });

  it('reads a message without attachments (older data) as having none', () => {
    expect(messageAttachments({})).toEqual([]);
    expect(messageAttachments({ attachments: null as unknown as AttachmentRef[] })).toEqual([]);
    const files = [file(1, 'a.png', 'image/png')];
    expect(messageAttachments({ attachments: files })).toBe(files);
    expect(attachmentNames({})).toBe('');
    expect(attachmentNames({ attachments: [file(1, 'a.png', 'image/png'), file(2, 'b.pdf', 'application/pdf'), file(3, 'c.png', 'image/png')] }))
      .toBe('a.png, b.pdf and c.png');
  });
});

const render = mount;

describe('a message\'s files', () => {
  it('links each file with its name and size; images get a lazy thumbnail named by the file', () => {
    const { el } = render(<MessageAttachments m={{ attachments: [file(7, 'wound.png', 'image/png', 2048), file(8, 'notes.zip', 'application/zip', 68), file(9, 'plan.pdf', 'application/pdf')] }} />);
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/api/v1/attachments/7', '/api/v1/attachments/8', '/api/v1/attachments/9']);
    expect(links.map((a) => a.getAttribute('aria-label'))).toEqual(['wound.png, 2 KB', 'notes.zip, 68 B', 'plan.pdf, 68 B']);
    expect(links[0]!.target).toBe('_blank');
    expect(links[0]!.rel).toContain('noopener');
    expect(links[1]!.getAttribute('download')).toBe('notes.zip');
    expect(links[1]!.target).toBe('');
    const images = [...el.querySelectorAll('img')];
    expect(images).toHaveLength(1);
    expect(images[0]!.getAttribute('src')).toBe('/api/v1/attachments/7');
    expect(images[0]!.alt).toBe('wound.png');
    expect(images[0]!.getAttribute('loading')).toBe('lazy');
  });

  it('renders nothing for a message without files, and file names as text', () => {
    const empty = render(<MessageAttachments m={{}} />).el;
    expect(empty.innerHTML).toBe('');
    empty.remove();
    const { el } = render(<MessageAttachments m={{ attachments: [file(1, '<img src=x onerror=alert(1)>.txt', 'text/plain')] } as Pick<Message, 'attachments'>} />);
    expect(el.querySelector('img')).toBeNull();
    expect(el.querySelector('.attachment-name')?.textContent).toBe('<img src=x onerror=alert(1)>.txt');
  });
});

// The composer's files against a fake server: what was sent, and what each chip shows.
describe('attaching files', () => {
  const requests: { url: string; method: string; headers: Record<string, string>; body: unknown }[] = [];
  let answer: (url: string) => Response;
  let files: Attachments | null = null;

  function Probe({ draft }: { draft: string }) {
    const f = useAttachments(3, draft);
    files = f;
    return <AttachmentChips files={f} />;
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const settle = () => act(async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); await new Promise((r) => setTimeout(r, 0)); });

  beforeEach(() => {
    requests.length = 0;
    setCsrfToken('csrf-1');
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      requests.push({ url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body: init.body });
      return answer(url);
    }));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(null);
    act(() => wipeSessionMemory());
  });

  it('uploads the file itself under its own type, with the name in the query and the CSRF header', async () => {
    answer = () => json(201, { ...file(41, 'scan 1.png', 'image/png', 12), space_id: 3, uploader_id: 1, message_id: null, phi_types: [], created_at: 1 });
    const picked = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'scan 1.png', { type: 'image/png' });
    const { el } = render(<Probe draft="3:top" />);
    act(() => files!.add([picked]));
    expect(el.querySelector('.attachment-chip')?.getAttribute('data-state')).toBe('uploading');
    await settle();

    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/api/v1/spaces/3/attachments?name=scan+1.png');
    expect(r.headers['content-type']).toBe('image/png');
    expect(r.headers['x-csrf-token']).toBe('csrf-1');
    expect(r.body).toBe(picked);
    expect(files!.ids).toEqual([41]);
    expect(files!.pending).toBe(false);
    expect(el.querySelector('.attachment-chip')?.getAttribute('data-state')).toBe('ready');
    expect(el.querySelector('.chip-name')?.textContent).toBe('scan 1.png');
    expect(el.querySelector('.chip-size')?.textContent).toBe('12 B');

    act(() => files!.sent([41]));
    expect(el.querySelector('.attachment-chip')).toBeNull();
  });

  it('shows the server\'s refusal, and a file without a type goes as octet-stream', async () => {
    answer = () => json(422, { code: 'attachment_type_not_allowed', detail: 'This space takes image/png files; this one is text/plain.' });
    const { el } = render(<Probe draft="3:top" />);
    act(() => files!.add([new File(['hello'], 'notes')]));
    await settle();
    expect(requests[0]!.headers['content-type']).toBe('application/octet-stream');
    expect(el.querySelector('.chip-error')?.textContent).toBe('Not attached: This space takes image/png files; this one is text/plain.');
    expect(files!.ids).toEqual([]);
    expect(files!.pending).toBe(false);
    // A send clears refused files too.
    act(() => files!.sent([]));
    expect(el.querySelector('.attachment-chip')).toBeNull();
  });

  it('asks before attaching a file whose name looks like PHI, then retries with confirm_phi', async () => {
    const name = 'call 555-867-5309.png';
    answer = () => json(422, { code: 'phi_warning', detail: 'Possible PHI.', findings: [{ type: 'phone', field: 'name', begin: 5, end: 17, confidence: 0.9, rule: 'phone' }] });
    const { el } = render(<Probe draft="3:top" />);
    act(() => files!.add([new File(['x'], name, { type: 'image/png' })]));
    await settle();
    expect(files!.pending).toBe(true);
    const panel = el.querySelector('.phi-panel[data-phi-state="phi_warning"]');
    expect(panel?.textContent).toContain('phone number');
    expect([...panel!.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['555-867-5309']);

    answer = () => json(201, { ...file(42, name, 'image/png', 1), space_id: 3, uploader_id: 1, message_id: null, phi_types: ['phone'], created_at: 1 });
    const attach = [...panel!.querySelectorAll('button')].find((b) => b.textContent === 'Attach anyway')!;
    act(() => attach.click());
    await settle();
    expect(requests.map((r) => r.url)).toEqual([
      '/api/v1/spaces/3/attachments?name=call+555-867-5309.png',
      '/api/v1/spaces/3/attachments?name=call+555-867-5309.png&confirm_phi=true',
    ]);
    expect(files!.ids).toEqual([42]);
    expect(el.querySelector('.phi-panel')).toBeNull();
  });

  it('shows where in a text file the refused PHI is, and how often it was found', async () => {
    const text = '\ufeffname,phone\nclerk,617-555-0142\n';
    // Offsets are UTF-8 bytes of the file as sent, its byte-order mark included (3 bytes).
    const begin = 3 + 'name,phone\nclerk,'.length;
    answer = () => json(422, {
      code: 'phi_blocked', detail: 'Patient information is not allowed in this space (phone).',
      findings: [{ type: 'phone', field: 'content', begin, end: begin + 12, confidence: 0.9, rule: 'phone' }], findings_total: 240,
    });
    const { el } = render(<Probe draft="3:top" />);
    act(() => files!.add([new File([text], 'callbacks.csv', { type: 'text/csv' })]));
    await settle();
    await settle();
    const panel = el.querySelector('.phi-panel[data-phi-state="phi_blocked"]');
    expect(panel?.textContent).toContain("the file's content has patient information (phone number) in 240 places");
    expect([...panel!.querySelectorAll('pre mark')].map((m) => m.textContent)).toEqual(['617-555-0142']);
    expect(panel!.querySelector('button')).toBeNull(); // blocked: nothing to confirm
    expect(files!.ids).toEqual([]);
  });

  it('refuses files past ten without uploading them, and a removed file is gone', async () => {
    let id = 100;
    answer = (url) => {
      const name = new URL(url, 'http://x').searchParams.get('name')!;
      return json(201, { ...file(++id, name, 'image/png', 1), space_id: 3, uploader_id: 1, message_id: null, phi_types: [], created_at: 1 });
    };
    const { el } = render(<Probe draft="3:post" />);
    act(() => files!.add(Array.from({ length: 11 }, (_, i) => new File(['x'], `f${i}.png`, { type: 'image/png' }))));
    await settle();
    expect(requests).toHaveLength(10);
    expect(files!.ids).toHaveLength(10);
    expect(el.querySelectorAll('.chip-error')).toHaveLength(1);
    expect(el.querySelector('.chip-error')?.textContent).toContain('at most 10 files');

    const remove = el.querySelector<HTMLButtonElement>('button[aria-label="Remove f0.png"]')!;
    act(() => remove.click());
    expect(files!.ids).toHaveLength(9);
    expect(el.querySelector('button[aria-label="Remove f0.png"]')).toBeNull();
  });

  it('keeps a draft\'s files when its composer goes away and comes back, until the session ends', async () => {
    answer = () => json(201, { ...file(51, 'a.png', 'image/png', 1), space_id: 3, uploader_id: 1, message_id: null, phi_types: [], created_at: 1 });
    const first = render(<Probe draft="3:top" />);
    act(() => files!.add([new File(['x'], 'a.png', { type: 'image/png' })]));
    act(() => first.root.unmount());
    await settle();
    first.el.remove();
    const { el } = render(<Probe draft="3:top" />);
    expect(files!.ids).toEqual([51]);
    expect(el.querySelector('.chip-name')?.textContent).toBe('a.png');
    act(() => wipeSessionMemory());
    expect(files!.ids).toEqual([]);
  });

  it('sends the ids with the message', async () => {
    answer = () => json(201, {});
    await Api.post(3, { body: '', client_id: 'c', attachment_ids: [4, 5] });
    expect(JSON.parse(requests[0]!.body as string)).toEqual({ body: '', client_id: 'c', attachment_ids: [4, 5] });
    expect(requests[0]!.headers['content-type']).toBe('application/json');
  });
});
