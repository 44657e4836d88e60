-- Which patients a message names, and which audit records concern which patient.
--
-- messages.patient_refs: the audit references (Pseudonyms::PatientRef, "Patient/mrn-" and an
-- HMAC) of the patients in the patient index that any version of the message names, sorted and
-- separated by single spaces; '' for none. A read of the message puts them on its audit record.
-- They are keyed: without the server's secret they lead back to no MRN.
ALTER TABLE messages ADD COLUMN patient_refs TEXT NOT NULL DEFAULT '';

-- The audit trail searched by patient ("who saw this patient's information"). A record's
-- patient_ref may hold several references, separated by single spaces; each has its entry here.
-- Derived like the other indexes (0006): the store's writer adds entries in batches up to
-- audit_index_state.indexed_seq, and the tail after it is read from audit_log directly.
CREATE TABLE audit_index_patient (
  patient_ref TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (patient_ref, seq)
) WITHOUT ROWID;

WITH RECURSIVE split(seq, ref, rest) AS (
  SELECT seq, '', patient_ref || ' ' FROM audit_log WHERE patient_ref != ''
  UNION ALL
  SELECT seq, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest != ''
)
INSERT OR IGNORE INTO audit_index_patient (patient_ref, seq)
SELECT ref, seq FROM split WHERE ref != '' AND seq <= (SELECT indexed_seq FROM audit_index_state WHERE id = 1);
