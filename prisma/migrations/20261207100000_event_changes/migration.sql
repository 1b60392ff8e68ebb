-- CreateTable
CREATE TABLE "event_changes" (
    "position" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "writer_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_changes_pkey" PRIMARY KEY ("position")
);

-- CreateTable
CREATE TABLE "event_change_horizon" (
    "id" INTEGER NOT NULL,
    "purged_xid" xid8 NOT NULL,
    "purged_position" BIGINT NOT NULL,
    "purged_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_change_horizon_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "event_changes_writer_xid_position_idx" ON "event_changes"("writer_xid", "position");

-- CreateIndex
CREATE INDEX "event_changes_changed_at_idx" ON "event_changes"("changed_at");


-- The change feed's writers (docs/changes.md). Statement-level triggers with transition tables:
-- one set-based INSERT per statement, however many rows it wrote, so the bulk writer's COPY and
-- INSERT … ON CONFLICT stay set-based. Only events in the catalog (ever online) have changes.
-- Besides the written rows themselves, every other member of a canonical group a written row
-- joins, leaves or changes gets a `merged` change: its `/v1/events/:id` answer (sources, prices)
-- changed with it. Groups are found as in findById (packages/db/src/event.repository.ts).

-- The ids of ever-online events sharing a canonical group with the given keys, as findById's
-- members: rows of the same canonical key, and rows without a shared code whose match key a
-- coded row of the group has.
CREATE FUNCTION "marquee_canonical_group_members"(canonical_keys TEXT[], match_keys TEXT[])
RETURNS TABLE (id UUID) AS $$
  WITH keys AS (
    SELECT key FROM unnest(canonical_keys) AS key WHERE key IS NOT NULL
    UNION
    SELECT k.canonical_key FROM events k
    WHERE k.match_key = ANY(match_keys) AND k.canonical_key LIKE 'dedupe:%' AND k.ever_online)
  SELECT o.id FROM events o WHERE o.canonical_key IN (SELECT key FROM keys) AND o.ever_online
  UNION
  SELECT u.id FROM events k JOIN events u ON u.match_key = k.match_key
  WHERE k.canonical_key IN (SELECT key FROM keys) AND k.canonical_key LIKE 'dedupe:%'
    AND k.ever_online AND u.ever_online AND u.canonical_key NOT LIKE 'dedupe:%'
$$ LANGUAGE sql STABLE;

-- A row written by an INSERT enters the catalog, one removed by a DELETE (its provider removed)
-- leaves it; the other members of their groups change. `event_rows` is the transition table of
-- either trigger (new rows, old rows). A deleted row is no longer in `events`, so no group lists it.
CREATE FUNCTION "marquee_events_entered_or_left"() RETURNS trigger AS $$
BEGIN
  INSERT INTO event_changes (event_id, kind)
  SELECT r.id, CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'deleted' END
  FROM event_rows r WHERE r.ever_online;
  INSERT INTO event_changes (event_id, kind)
  SELECT m.id, 'merged'
  FROM marquee_canonical_group_members(
    ARRAY(SELECT DISTINCT canonical_key FROM event_rows WHERE ever_online AND canonical_key IS NOT NULL),
    ARRAY(SELECT DISTINCT match_key FROM event_rows WHERE ever_online AND match_key IS NOT NULL)) m
  WHERE NOT EXISTS (SELECT 1 FROM event_rows r WHERE r.id = m.id);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- An update is a change when a stored field other than the seen-at bookkeeping differs (a
-- "last seen" mark writes none).
CREATE FUNCTION "marquee_events_updated"() RETURNS trigger AS $$
BEGIN
  WITH changed AS MATERIALIZED (
    SELECT n.id,
      CASE
        WHEN NOT o.ever_online THEN 'created'
        WHEN n.status = 'cancelled' AND o.status IS DISTINCT FROM 'cancelled' THEN 'cancelled'
        ELSE 'updated'
      END AS kind,
      o.canonical_key AS old_canonical, n.canonical_key AS new_canonical,
      o.match_key AS old_match, n.match_key AS new_match
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE n.ever_online AND (
      (o.provider_id, o.external_key, o.title, o.start_at, o.end_at, o.timezone, o.min_price,
       o.max_price, o.currency, o.online, o.ever_online, o.content_hash, o.all_day, o.url,
       o.venue_name, o.venue_address, o.venue_city, o.venue_country, o.venue_lat, o.venue_lon,
       o.performers, o.status, o.canonical_key, o.match_key)
      IS DISTINCT FROM
      (n.provider_id, n.external_key, n.title, n.start_at, n.end_at, n.timezone, n.min_price,
       n.max_price, n.currency, n.online, n.ever_online, n.content_hash, n.all_day, n.url,
       n.venue_name, n.venue_address, n.venue_city, n.venue_country, n.venue_lat, n.venue_lon,
       n.performers, n.status, n.canonical_key, n.match_key)))
  INSERT INTO event_changes (event_id, kind)
  SELECT id, kind FROM changed
  UNION ALL
  SELECT m.id, 'merged'
  FROM marquee_canonical_group_members(
    ARRAY(SELECT old_canonical FROM changed UNION SELECT new_canonical FROM changed),
    ARRAY(SELECT old_match FROM changed UNION SELECT new_match FROM changed)) m
  WHERE NOT EXISTS (SELECT 1 FROM changed c WHERE c.id = m.id);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_inserted_changes"
AFTER INSERT ON "events" REFERENCING NEW TABLE AS event_rows
FOR EACH STATEMENT EXECUTE FUNCTION "marquee_events_entered_or_left"();

CREATE TRIGGER "events_updated_changes"
AFTER UPDATE ON "events" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION "marquee_events_updated"();

CREATE TRIGGER "events_deleted_changes"
AFTER DELETE ON "events" REFERENCING OLD TABLE AS event_rows
FOR EACH STATEMENT EXECUTE FUNCTION "marquee_events_entered_or_left"();
