-- AlterTable
ALTER TABLE "events" ADD COLUMN     "all_day" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "url" TEXT,
ADD COLUMN     "venue_name" TEXT,
ADD COLUMN     "venue_address" TEXT,
ADD COLUMN     "venue_city" TEXT,
ADD COLUMN     "venue_country" TEXT,
ADD COLUMN     "venue_lat" DOUBLE PRECISION,
ADD COLUMN     "venue_lon" DOUBLE PRECISION,
ADD COLUMN     "performers" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "status" TEXT,
ADD COLUMN     "canonical_key" TEXT;

-- CreateIndex
CREATE INDEX "events_canonical_key_first_seen_at_id_idx" ON "events"("canonical_key", "first_seen_at", "id");
