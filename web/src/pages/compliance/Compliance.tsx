// The compliance screens: the moderation queue (also open to space moderators), and for compliance
// officers the audit trail, policy templates, legal holds, e-discovery exports and emergency access.
import { href, type ComplianceSection } from '../../lib/route';
import { useApp } from '../../state';
import ModerationQueue from './ModerationQueue';
import AuditPage from './AuditPage';
import TemplatesPage from './TemplatesPage';
import HoldsPage from './HoldsPage';
import ExportsPage from './ExportsPage';
import EmergencyGrants from './EmergencyGrants';

const TABS: { section: ComplianceSection; label: string; officersOnly: boolean }[] = [
  { section: 'moderation', label: 'Moderation', officersOnly: false },
  { section: 'audit', label: 'Audit', officersOnly: true },
  { section: 'templates', label: 'Templates', officersOnly: true },
  { section: 'holds', label: 'Legal holds', officersOnly: true },
  { section: 'exports', label: 'Exports', officersOnly: true },
  { section: 'emergency', label: 'Emergency access', officersOnly: true },
];

export default function CompliancePage({ section, templateKey }: { section: ComplianceSection; templateKey?: string }) {
  const { me } = useApp();
  const officer = me.is_compliance;
  const tabs = TABS.filter((t) => officer || !t.officersOnly);
  const allowed = tabs.some((t) => t.section === section);
  return (
    <section className="page compliance-page">
      <h1 tabIndex={-1}>{officer ? 'Compliance' : 'Review queue'}</h1>
      {tabs.length > 1 && (
        <nav aria-label="Compliance sections">
          <ul className="compliance-tabs">
            {tabs.map((t) => (
              <li key={t.section}>
                <a href={href.compliance(t.section)} aria-current={t.section === section ? 'page' : undefined}>{t.label}</a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {!allowed
        ? <p className="notice">Only compliance officers can open this screen.</p>
        : section === 'moderation' ? <ModerationQueue />
          : section === 'audit' ? <AuditPage />
            : section === 'templates' ? <TemplatesPage templateKey={templateKey} />
              : section === 'holds' ? <HoldsPage />
                : section === 'exports' ? <ExportsPage />
                  : <EmergencyGrants />}
    </section>
  );
}
