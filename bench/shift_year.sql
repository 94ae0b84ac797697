-- Tops a size-M bench database (seed_world --size M: the last 120 days of cases) up to a year of cases:
-- time-shifted copies (95, 190, 285 days earlier) of the generated cases older than 25 days, with their
-- history rows, new ids, numbers (+k*200000) and tracking tokens. Benchmark data only, never a write path.
--   psql -U postgres -h 127.0.0.1 <bench database> -v ON_ERROR_STOP=1 -f bench/shift_year.sql
\timing on
BEGIN;
-- remove the partial generator top-up (cases before the world step's first day)
DELETE FROM cases_caseevent WHERE case_id IN (SELECT id FROM cases_case WHERE created_at < now() - interval '121 days');
DELETE FROM cases_case WHERE created_at < now() - interval '121 days';
CREATE TEMP TABLE src AS SELECT * FROM cases_case WHERE created_at < now() - interval '25 days';
CREATE TEMP TABLE map (k int, old_id bigint, new_id bigint, shift interval);
INSERT INTO map SELECT k, s.id, nextval(pg_get_serial_sequence('cases_case','id')), (k * 95) * interval '1 day'
  FROM src s CROSS JOIN generate_series(1,3) k
 WHERE s.created_at - (k * 95) * interval '1 day' >= now() - interval '365 days';
INSERT INTO cases_case (id, number, title, description, urgency, channel, lat, lng, address, anonymous, tracking_token,
  status, owner_path, unit_path, respond_due, resolve_due, responded_at, warned_for, respond_urged_for, overdue_for,
  overdue, dispatch_final, urge_count, supervised, extension_days_requested, extension_count, result, resolved_at,
  closed_at, rating, rating_note, idempotency_key, payload_hash, version, created_at, updated_at, county_id,
  holder_department_id, holder_unit_id, merged_into_id, owner_unit_id, reported_by_id, unit_id, category_id,
  household_id, reporter_name_cipher, reporter_name_masked, reporter_phone_cipher, reporter_phone_masked)
SELECT m.new_id,
  split_part(s.number,'-',1) || '-' || to_char((s.created_at - m.shift) AT TIME ZONE 'Asia/Shanghai','YYYY') || '-'
    || left(split_part(s.number,'-',3),1) || (m.k * 200000 + substr(split_part(s.number,'-',3),2)::int)::text,
  s.title, s.description, s.urgency, s.channel, s.lat, s.lng, s.address, s.anonymous,
  'h' || m.k || left(s.tracking_token, 20),
  s.status, s.owner_path, s.unit_path, s.respond_due - m.shift, s.resolve_due - m.shift, s.responded_at - m.shift,
  s.warned_for - m.shift, s.respond_urged_for - m.shift, s.overdue_for - m.shift,
  s.overdue, s.dispatch_final, s.urge_count, s.supervised, s.extension_days_requested, s.extension_count, s.result,
  s.resolved_at - m.shift, s.closed_at - m.shift, s.rating, s.rating_note, NULL, s.payload_hash, s.version,
  s.created_at - m.shift, s.updated_at - m.shift, s.county_id, s.holder_department_id, s.holder_unit_id, NULL,
  s.owner_unit_id, s.reported_by_id, s.unit_id, s.category_id, s.household_id, s.reporter_name_cipher,
  s.reporter_name_masked, s.reporter_phone_cipher, s.reporter_phone_masked
FROM map m JOIN src s ON s.id = m.old_id;
INSERT INTO cases_caseevent (id, seq, action, at, actor_role, from_status, to_status, note, reason_code,
  resolve_due_before, resolve_due_after, detail, actor_id, case_id, from_department_id, from_unit_id,
  to_department_id, to_unit_id)
SELECT nextval(pg_get_serial_sequence('cases_caseevent','id')), e.seq, e.action, e.at - m.shift, e.actor_role,
  e.from_status, e.to_status, e.note, e.reason_code, e.resolve_due_before - m.shift, e.resolve_due_after - m.shift,
  e.detail, e.actor_id, m.new_id, e.from_department_id, e.from_unit_id, e.to_department_id, e.to_unit_id
FROM map m JOIN cases_caseevent e ON e.case_id = m.old_id;
SELECT count(*), min(created_at), max(created_at) FROM cases_case;
COMMIT;
ANALYZE;
