-- The change feed's group lookup, the same members found through the indexes. The SQL function's
-- queries ran with a generic plan (its arrays unknown to the planner): a sequential scan of
-- `events` for `canonical_key LIKE 'dedupe:%'` on every statement that wrote events, however few
-- rows it wrote (130 ms at 66,000 events; a cycle of 1,000 small providers ran it 1,000 times on
-- a growing table). Here the group's keys are gathered first, nothing more is read when there
-- are none, and the members are found by `= ANY(keys)` (the canonical and match key indexes).
CREATE OR REPLACE FUNCTION "marquee_canonical_group_members"(canonical_keys TEXT[], match_keys TEXT[])
RETURNS TABLE (id UUID) AS $$
#variable_conflict use_column
DECLARE
  group_keys TEXT[];
BEGIN
  SELECT array_agg(DISTINCT key) INTO group_keys FROM (
    SELECT key FROM unnest(canonical_keys) AS key WHERE key IS NOT NULL
    UNION
    SELECT k.canonical_key FROM events k
    WHERE k.match_key = ANY(match_keys) AND k.canonical_key LIKE 'dedupe:%' AND k.ever_online
  ) AS found;
  IF group_keys IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT o.id FROM events o WHERE o.canonical_key = ANY(group_keys) AND o.ever_online
    UNION
    SELECT u.id FROM events k JOIN events u ON u.match_key = k.match_key
    WHERE k.canonical_key = ANY(group_keys) AND k.canonical_key LIKE 'dedupe:%'
      AND k.ever_online AND u.ever_online AND u.canonical_key NOT LIKE 'dedupe:%';
END;
$$ LANGUAGE plpgsql STABLE;
