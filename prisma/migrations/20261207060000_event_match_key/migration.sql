-- AlterTable
ALTER TABLE "events" ADD COLUMN     "match_key" TEXT;

-- Every stored canonical key is a match key so far (shared codes are new). Venues with a trailing
-- city ("Palau Sant Jordi (Barcelona)") get their new match key when their provider syncs next.
UPDATE "events" SET "match_key" = "canonical_key" WHERE "canonical_key" IS NOT NULL;

-- A provider's next sync applies its payload even if it did not change, so that every stored row
-- gets the keys of the current rules (the writer rewrites rows whose keys differ).
UPDATE "provider_fetch_states"
SET "etag" = NULL, "last_modified" = NULL, "content_hash" = NULL, "seen_marked_at" = NULL;

-- CreateIndex
CREATE INDEX "events_match_key_idx" ON "events"("match_key");
