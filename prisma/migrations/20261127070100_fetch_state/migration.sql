-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN     "flag" TEXT;

-- CreateTable
CREATE TABLE "provider_fetch_states" (
    "provider_id" UUID NOT NULL,
    "etag" TEXT,
    "last_modified" TEXT,
    "content_hash" TEXT,
    "parsed_count" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_fetch_states_pkey" PRIMARY KEY ("provider_id")
);

-- AddForeignKey
ALTER TABLE "provider_fetch_states" ADD CONSTRAINT "provider_fetch_states_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
