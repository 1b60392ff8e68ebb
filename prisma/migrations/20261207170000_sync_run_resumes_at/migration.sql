-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN     "resumes_at" TIMESTAMPTZ(3);

