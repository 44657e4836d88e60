// Routes live in the URL hash (#/space/3, #/search?q=…) so a reload keeps the place and the
// server only ever serves index.html.
export type Route =
  | { page: 'home' }
  | { page: 'space'; id: number; message?: number }
  | { page: 'search'; q: string }
  | { page: 'people' }
  | { page: 'person'; id: number }
  | { page: 'profile' }
  | { page: 'mentions' }
  | { page: 'discover' }
  | { page: 'emergency' }
  | { page: 'compliance'; section: ComplianceSection; key?: string }
  | { page: 'not-found' };

export const COMPLIANCE_SECTIONS = ['moderation', 'audit', 'templates', 'holds', 'exports', 'emergency'] as const;
export type ComplianceSection = (typeof COMPLIANCE_SECTIONS)[number];

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean);
  const id = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : NaN);
  if (parts.length === 0) return { page: 'home' };
  switch (parts[0]) {
    case 'space': {
      const spaceId = id(parts[1]);
      if (Number.isNaN(spaceId) || parts.length > 2) return { page: 'not-found' };
      const m = id(params.get('m') ?? undefined);
      return Number.isNaN(m) ? { page: 'space', id: spaceId } : { page: 'space', id: spaceId, message: m };
    }
    case 'search': return { page: 'search', q: params.get('q') ?? '' };
    case 'people': {
      if (parts.length === 1) return { page: 'people' };
      const personId = id(parts[1]);
      return Number.isNaN(personId) ? { page: 'not-found' } : { page: 'person', id: personId };
    }
    case 'profile': return { page: 'profile' };
    case 'mentions': return { page: 'mentions' };
    case 'discover': return { page: 'discover' };
    case 'emergency': return parts.length === 1 ? { page: 'emergency' } : { page: 'not-found' };
    case 'compliance': {
      const section = (parts[1] ?? 'moderation') as ComplianceSection;
      if (!COMPLIANCE_SECTIONS.includes(section) || parts.length > 3 || (parts.length === 3 && section !== 'templates')) return { page: 'not-found' };
      return parts[2] ? { page: 'compliance', section, key: decodeURIComponent(parts[2]) } : { page: 'compliance', section };
    }
    default: return { page: 'not-found' };
  }
}

export const href = {
  home: () => '#/',
  space: (id: number, message?: number) => (message ? `#/space/${id}?m=${message}` : `#/space/${id}`),
  search: (q: string) => `#/search?q=${encodeURIComponent(q)}`,
  people: () => '#/people',
  person: (id: number) => `#/people/${id}`,
  profile: () => '#/profile',
  mentions: () => '#/mentions',
  discover: () => '#/discover',
  emergency: () => '#/emergency',
  compliance: (section: ComplianceSection = 'moderation', key?: string) => `#/compliance/${section}${key ? `/${encodeURIComponent(key)}` : ''}`,
};

export const go = (hash: string) => { if (location.hash !== hash) location.hash = hash; };
