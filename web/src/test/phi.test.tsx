// @vitest-environment jsdom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { PhiFinding } from '../governanceApi';
import { byteIndexer, findingSpans, findingTypes, heldNotice, listTypes, phiRefusal, policySummary, segments, utf8ByteLength } from '../lib/phi';
import { holdReasonLabel } from '../lib/moderation';
import { parseRoute } from '../lib/route';
import { Highlighted, PhiPanel } from '../space/PhiGuard';
import { ApiError } from '../api';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A finding for the first occurrence of `needle` in `text`, with UTF-8 byte offsets like the server's. */
function find(text: string, needle: string, type = 'phone', field = 'body'): PhiFinding {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in text`);
  const begin = utf8ByteLength(text.slice(0, at));
  return { type, field, begin, end: begin + utf8ByteLength(needle), confidence: 0.9, rule: 'test' };
}
const spanText = (text: string, f: PhiFinding[], field = 'body') => findingSpans(text, f, field).map((s) => text.slice(s.start, s.end));

describe('held posts', () => {
  it('tell the author of a post held for review nothing of patient information', () => {
    expect(heldNotice('review')).toBe(heldNotice('pre_moderation'));
    expect(heldNotice('review')).not.toMatch(/patient/i);
    expect(heldNotice('phi')).toMatch(/patient information/);
  });

  it('tell moderators why a post waits', () => {
    expect(holdReasonLabel('review')).toMatch(/patient/);
    expect(holdReasonLabel('pre_moderation')).toBe('Pre-moderated');
    expect(holdReasonLabel('')).toBe('Reported');
  });
});

describe('a space\'s policy note', () => {
  it('tells a patient or a guest that their posts wait where PHI is kept from members', () => {
    const forum = { phi: 'block' as const, moderation: 'none' };
    expect(policySummary(forum)).toBe('No PHI');
    expect(policySummary(forum, true)).toBe('No PHI · pre-moderated');
    for (const phi of ['hold', 'redact'] as const) expect(policySummary({ phi, moderation: 'post-moderation' }, true)).toMatch(/pre-moderated$/);
    for (const phi of ['allow', 'warn'] as const) expect(policySummary({ phi, moderation: 'none' }, true)).not.toMatch(/moderated/);
    expect(policySummary({ phi: 'allow', moderation: 'pre-moderation' })).toBe('PHI allowed · pre-moderated');
  });
});

describe('byte offsets to string indices', () => {
  it('is the identity for ASCII', () => {
    const at = byteIndexer('call 555-0100 now');
    for (let i = 0; i <= 17; i++) expect(at(i)).toBe(i);
    expect(at(99)).toBe(17);
    expect(at(-3)).toBe(0);
  });

  it('counts two-, three- and four-byte characters as TextEncoder does', () => {
    const samples = ['café Zoë 555-0100', 'née 日本語 MRN 12345678', 'ok 👩🏽‍⚕️ nurse 555-0100 🎉 end', 'Ünïcödé\nzweite Zeile'];
    for (const text of samples) {
      const at = byteIndexer(text);
      const bytes = new TextEncoder().encode(text);
      // Every code point boundary maps back to the same prefix.
      for (let i = 0; i <= text.length; i++) {
        const code = text.charCodeAt(i - 1);
        if (i > 0 && code >= 0xd800 && code <= 0xdbff) continue; // inside a surrogate pair
        const prefix = utf8ByteLength(text.slice(0, i));
        expect(at(prefix)).toBe(i);
      }
      expect(at(bytes.length)).toBe(text.length);
    }
  });

  it('never cuts a character: offsets inside one round out to its edges', () => {
    const text = 'a€b'; // € is 3 bytes: a=0, €=1..3, b=4
    const at = byteIndexer(text);
    expect(at(2, 'down')).toBe(1);
    expect(at(2, 'up')).toBe(2);
    const emoji = 'x🎉y'; // 🎉 is 4 bytes and 2 UTF-16 units
    const at2 = byteIndexer(emoji);
    expect(at2(3, 'down')).toBe(1);
    expect(at2(3, 'up')).toBe(3);
    expect(at2(5)).toBe(3);
  });
});

describe('finding spans', () => {
  it('map findings after multi-byte text onto the right words', () => {
    const text = 'Zoë 👩‍⚕️ called from 555-867-5309 about Müller, MRN 00123456';
    const findings = [find(text, '555-867-5309'), find(text, 'Müller', 'name'), find(text, '00123456', 'mrn')];
    expect(spanText(text, findings)).toEqual(['555-867-5309', 'Müller', '00123456']);
  });

  it('keep only the field asked for, sort, drop empty and merge overlaps with both types', () => {
    const text = 'SSN 123-45-6789 and 555-0100';
    const ssn = find(text, '123-45-6789', 'ssn');
    const inner = { ...find(text, '45-6789', 'phone') };
    const phone = find(text, '555-0100', 'phone');
    const title = { ...phone, field: 'title' };
    const empty = { ...phone, begin: 3, end: 3 };
    const spans = findingSpans(text, [phone, inner, ssn, title, empty], 'body');
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['123-45-6789', '555-0100']);
    expect(spans[0]!.types).toEqual(['ssn', 'phone']);
  });

  it('clamp spans that run past a text that changed', () => {
    expect(findingSpans('short', [{ type: 'SSN', field: 'body', begin: 2, end: 40, confidence: 1, rule: '' }], 'body'))
      .toEqual([{ start: 2, end: 5, types: ['ssn'] }]);
  });

  it('cut the text into plain and marked segments that join back to it', () => {
    const text = 'Call Ünal at 555-0100.';
    const segs = segments(text, findingSpans(text, [find(text, 'Ünal', 'name'), find(text, '555-0100')], 'body'));
    expect(segs).toEqual([
      { text: 'Call ' }, { text: 'Ünal', types: ['name'] }, { text: ' at ' }, { text: '555-0100', types: ['phone'] }, { text: '.' },
    ]);
    expect(segs.map((s) => s.text).join('')).toBe(text);
    expect(segments('', [])).toEqual([{ text: '' }]);
  });

  it('name the types for people', () => {
    expect(findingTypes([{ type: 'SSN' }, { type: 'phone' }, { type: 'ssn' }])).toEqual(['ssn', 'phone']);
    expect(listTypes(['phone', 'ssn', 'health_plan'])).toBe('phone number, Social Security number and health plan number');
  });
});

let container: HTMLDivElement;
afterEach(() => { container?.remove(); });

describe('Highlighted', () => {
  it('marks exactly the offending spans, as text', () => {
    const text = 'Pt <b>Zoë</b> 555-867-5309';
    container = document.createElement('div');
    document.body.appendChild(container);
    act(() => createRoot(container).render(<Highlighted text={text} findings={[find(text, '555-867-5309')]} field="body" />));
    const marks = [...container.querySelectorAll('mark')];
    expect(marks.map((m) => m.textContent)).toEqual(['555-867-5309']);
    expect(marks[0]!.dataset.phiType).toBe('phone');
    expect(container.querySelector('b')).toBeNull();
    expect(container.textContent).toBe(text);
  });
});

describe('PHI refusals', () => {
  it('reads the findings of a 422 phi_warning or phi_blocked and nothing else', () => {
    const f = [{ type: 'ssn', field: 'body', begin: 0, end: 11, confidence: 1, rule: 'ssn.valid' }];
    expect(phiRefusal(new ApiError(422, 'phi_blocked', 'no', undefined, { findings: f }))).toEqual({ code: 'phi_blocked', findings: f, total: 1, text: 'no' });
    expect(phiRefusal(new ApiError(422, 'phi_warning', 'sure?', undefined, {}))?.findings).toEqual([]);
    // A file's refusal lists the first findings and counts them all; a count below the list is not believed.
    expect(phiRefusal(new ApiError(422, 'phi_blocked', 'no', undefined, { findings: f, findings_total: 1500 }))?.total).toBe(1500);
    expect(phiRefusal(new ApiError(422, 'phi_blocked', 'no', undefined, { findings: f, findings_total: 0 }))?.total).toBe(1);
    expect(phiRefusal(new ApiError(422, 'invalid_value', 'x'))).toBeNull();
    expect(phiRefusal(new Error('x'))).toBeNull();
  });
});

describe('compliance routes', () => {
  it('parse sections and template keys', () => {
    expect(parseRoute('#/compliance')).toEqual({ page: 'compliance', section: 'moderation' });
    expect(parseRoute('#/compliance/audit')).toEqual({ page: 'compliance', section: 'audit' });
    expect(parseRoute('#/compliance/templates/patient-forum')).toEqual({ page: 'compliance', section: 'templates', key: 'patient-forum' });
    expect(parseRoute('#/compliance/audit/x')).toEqual({ page: 'not-found' });
    expect(parseRoute('#/compliance/nope')).toEqual({ page: 'not-found' });
  });
});

describe('PhiPanel', () => {
  const render = (findings: PhiFinding[]) => {
    container = document.createElement('div');
    document.body.appendChild(container);
    const guard = { refusal: { code: 'phi_blocked' as const, findings, text: 'no', snapshot: '' }, preview: null, refused: () => true, clear: () => {} };
    act(() => createRoot(container).render(<PhiPanel fields={{ body: '4320' }} guard={guard} onSendAnyway={() => {}} busy={false} />));
  };

  it('says why a text is flagged that only continues the previous message', () => {
    render([{ ...find('4320', '4320', 'ssn'), across_messages: true }]);
    expect(container.querySelector('[data-phi-across]')?.textContent).toMatch(/previous message/);
    expect([...container.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['4320']);
  });

  it('says why an answer to someone else\'s question is flagged', () => {
    render([{ ...find('4320', '4320', 'ssn'), across_messages: true, in_reply: true }]);
    const said = [...container.querySelectorAll('[data-phi-across]')];
    expect(said.map((p) => p.getAttribute('data-phi-across'))).toEqual(['reply']);
    expect(said[0]?.textContent).toMatch(/answer to the message before it/);
    expect([...container.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['4320']);
  });

  it('says why an edit is flagged for the message after it', () => {
    render([{ ...find('4320', '4320', 'ssn'), across_messages: true, before_next: true }]);
    const said = [...container.querySelectorAll('[data-phi-across]')];
    expect(said.map((p) => p.getAttribute('data-phi-across'))).toEqual(['next']);
    expect(said[0]?.textContent).toMatch(/message after it/);
  });

  it('says nothing of a previous message when the text alone was flagged', () => {
    render([find('4320', '4320', 'ssn')]);
    expect(container.querySelector('[data-phi-across]')).toBeNull();
    expect(container.querySelector('.phi-text')?.textContent).toMatch(/^Not sent/);
  });
});
