-- AlterTable
ALTER TABLE "provider_fetch_states" ADD COLUMN     "seen_marked_at" TIMESTAMPTZ(3);

