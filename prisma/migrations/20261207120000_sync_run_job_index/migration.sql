-- CreateIndex
CREATE INDEX "sync_runs_provider_id_job_id_idx" ON "sync_runs"("provider_id", "job_id");

