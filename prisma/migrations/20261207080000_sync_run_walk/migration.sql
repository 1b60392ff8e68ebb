-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN     "checkpoint" JSONB,
ADD COLUMN     "truncated" BOOLEAN NOT NULL DEFAULT false;
