import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RoomsAndSessions1795358979488 implements MigrationInterface {
  name = 'RoomsAndSessions1795358979488';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // btree_gist lets one GiST exclusion constraint combine "same room" (=) with "overlapping time" (&&).
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await queryRunner.query(
      `CREATE TABLE "rooms" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "name" character varying(150) NOT NULL, "description" text NOT NULL DEFAULT '', "capacity" integer NOT NULL, "location" character varying(255) NOT NULL DEFAULT '', "current_participants" integer NOT NULL DEFAULT '0', "is_active" boolean NOT NULL DEFAULT true, CONSTRAINT "chk_rooms_occupancy" CHECK ("current_participants" >= 0 AND "current_participants" <= "capacity"), CONSTRAINT "chk_rooms_capacity" CHECK ("capacity" >= 1), CONSTRAINT "pk_rooms" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_rooms_event_name" ON "rooms" ("event_id", "name")`);
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "room_id" uuid NOT NULL, "title" character varying(255) NOT NULL, "description" text NOT NULL DEFAULT '', "start_time" TIMESTAMP WITH TIME ZONE NOT NULL, "end_time" TIMESTAMP WITH TIME ZONE NOT NULL, "speaker_name" character varying(200) NOT NULL DEFAULT '', "speaker_title" character varying(200) NOT NULL DEFAULT '', "speaker_bio" text NOT NULL DEFAULT '', "speaker_photo_url" character varying(500), "theme" character varying(150) NOT NULL DEFAULT '', "status" character varying(16) NOT NULL DEFAULT 'scheduled', "session_type" character varying(16) NOT NULL DEFAULT 'conference', "is_paid" boolean NOT NULL DEFAULT false, "price" numeric(12,2), "capacity" integer, "youtube_live_url" character varying(500), "cover_image_url" character varying(500), "metadata" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "chk_sessions_capacity" CHECK ("capacity" IS NULL OR "capacity" > 0), CONSTRAINT "chk_sessions_price" CHECK ("price" IS NULL OR "price" >= 0), CONSTRAINT "chk_sessions_type" CHECK ("session_type" IN ('conference', 'atelier')), CONSTRAINT "chk_sessions_status" CHECK ("status" IN ('scheduled', 'live', 'completed', 'cancelled')), CONSTRAINT "chk_sessions_times" CHECK ("end_time" > "start_time"), CONSTRAINT "ex_sessions_room_overlap" EXCLUDE USING gist ("room_id" WITH =, tstzrange("start_time", "end_time") WITH &&) WHERE ("status" <> 'cancelled'), CONSTRAINT "pk_sessions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_sessions_event_id_room_id" ON "sessions" ("event_id", "room_id")`);
    await queryRunner.query(`CREATE INDEX "idx_sessions_event_id_start_time" ON "sessions" ("event_id", "start_time")`);
    await queryRunner.query(
      `ALTER TABLE "rooms" ADD CONSTRAINT "fk_rooms_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "fk_sessions_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "fk_sessions_room_id" FOREIGN KEY ("room_id") REFERENCES "rooms"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "fk_sessions_room_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "fk_sessions_event_id"`);
    await queryRunner.query(`ALTER TABLE "rooms" DROP CONSTRAINT "fk_rooms_event_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_sessions_event_id_start_time"`);
    await queryRunner.query(`DROP INDEX "public"."idx_sessions_event_id_room_id"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_rooms_event_name"`);
    await queryRunner.query(`DROP TABLE "rooms"`);
    // btree_gist stays: dropping an extension other objects may use is not this migration's call.
  }
}
