-- events.provider_id keeps its meaning (every event belongs to a provider that exists; removing a
-- provider removes its events) but is enforced per statement instead of per row. The foreign
-- key checked each inserted row on its own (one lookup and one row lock per event) after the
-- statement: for a 100,000-row first ingest ~0.35 s of serial work at the end of its COPY, and
-- ~18% of a group write's cost (bench/RESULTS.md, "Per statement, not per row"). schema.prisma
-- keeps the relation, so the Prisma client still models it; the drift test knows this one
-- difference (packages/db/test/migrations.test.ts).
ALTER TABLE "events" DROP CONSTRAINT "events_provider_id_fkey";

-- After every statement that inserts events (COPY included): the providers it names are locked
-- FOR KEY SHARE, as the foreign key's per-row check locked them, so a concurrent removal waits
-- for the writer to commit and its cascade below then sees the rows; a provider already gone (or
-- removed while the writer waited for the lock) fails the statement with the foreign key's
-- SQLSTATE.
CREATE FUNCTION "marquee_events_provider_check"() RETURNS trigger AS $$
DECLARE
  named INTEGER;
  locked INTEGER;
BEGIN
  SELECT count(DISTINCT provider_id) INTO named FROM event_rows;
  SELECT count(*) INTO locked FROM (
    SELECT 1 FROM providers p WHERE p.id IN (SELECT provider_id FROM event_rows) FOR KEY SHARE) l;
  IF locked <> named THEN
    RAISE foreign_key_violation
      USING MESSAGE = 'insert on table "events" names a provider that does not exist',
            TABLE = 'events', COLUMN = 'provider_id';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_provider_check"
AFTER INSERT ON "events" REFERENCING NEW TABLE AS event_rows
FOR EACH STATEMENT EXECUTE FUNCTION "marquee_events_provider_check"();

-- Neither end of the reference moves: an event's provider_id and a provider's id are refused a
-- change (the foreign key's ON UPDATE CASCADE had nothing to do: no writer changes either). The
-- triggers fire only for an UPDATE that names the column; the argument is its name.
CREATE FUNCTION "marquee_key_fixed"() RETURNS trigger AS $$
BEGIN
  RAISE foreign_key_violation
    USING MESSAGE = format('%s.%s cannot change', TG_TABLE_NAME, TG_ARGV[0]),
          TABLE = TG_TABLE_NAME, COLUMN = TG_ARGV[0];
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_provider_fixed"
BEFORE UPDATE OF "provider_id" ON "events"
FOR EACH ROW WHEN (OLD."provider_id" IS DISTINCT FROM NEW."provider_id")
EXECUTE FUNCTION "marquee_key_fixed"('provider_id');

CREATE TRIGGER "providers_id_fixed"
BEFORE UPDATE OF "id" ON "providers"
FOR EACH ROW WHEN (OLD."id" IS DISTINCT FROM NEW."id")
EXECUTE FUNCTION "marquee_key_fixed"('id');

-- The foreign key's ON DELETE CASCADE, one statement per removal.
CREATE FUNCTION "marquee_providers_removed"() RETURNS trigger AS $$
BEGIN
  DELETE FROM events e USING removed_providers r WHERE e.provider_id = r.id;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "providers_removed_events"
AFTER DELETE ON "providers" REFERENCING OLD TABLE AS removed_providers
FOR EACH STATEMENT EXECUTE FUNCTION "marquee_providers_removed"();
