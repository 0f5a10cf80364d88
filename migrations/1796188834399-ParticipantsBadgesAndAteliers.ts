import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ParticipantsBadgesAndAteliers1796188834399 implements MigrationInterface {
  name = 'ParticipantsBadgesAndAteliers1796188834399';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "participants" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "user_id" uuid NOT NULL, "badge_id" character varying(16) NOT NULL, "qr_salt" character varying(32) NOT NULL, "qr_hash" character varying(64) NOT NULL, "is_checked_in" boolean NOT NULL DEFAULT false, "checked_in_at" TIMESTAMP WITH TIME ZONE, "allowed_rooms" uuid array NOT NULL DEFAULT '{}', "plan_file" character varying(255), CONSTRAINT "chk_participants_checked_in" CHECK ("is_checked_in" = ("checked_in_at" IS NOT NULL)), CONSTRAINT "pk_participants" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_participants_event_qr_hash" ON "participants" ("event_id", "qr_hash")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_participants_event_badge_id" ON "participants" ("event_id", "badge_id")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_participants_event_user" ON "participants" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "revoked_qr_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "qr_hash" character varying(64) NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_revoked_qr_codes" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_revoked_qr_codes_event_id_participant_id" ON "revoked_qr_codes" ("event_id", "participant_id")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_revoked_qr_codes_event_qr_hash" ON "revoked_qr_codes" ("event_id", "qr_hash")`,
    );
    await queryRunner.query(
      `CREATE TABLE "session_access" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "session_id" uuid NOT NULL, "payment_status" character varying(16) NOT NULL, "amount_paid" numeric(12,2), "paid_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "chk_session_access_amount" CHECK ("amount_paid" IS NULL OR "amount_paid" >= 0), CONSTRAINT "chk_session_access_status" CHECK ("payment_status" IN ('pending', 'paid', 'free', 'refunded')), CONSTRAINT "pk_session_access" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_session_access_event_id_participant_id" ON "session_access" ("event_id", "participant_id")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_session_access_event_session_participant" ON "session_access" ("event_id", "session_id", "participant_id")`,
    );
    await queryRunner.query(`ALTER TABLE "sessions" ADD "seats_taken" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "chk_sessions_seats" CHECK ("seats_taken" >= 0 AND ("capacity" IS NULL OR "seats_taken" <= "capacity"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "participants" ADD CONSTRAINT "fk_participants_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "participants" ADD CONSTRAINT "fk_participants_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "participants" ADD CONSTRAINT "fk_participants_event_id_user_id" FOREIGN KEY ("event_id", "user_id") REFERENCES "user_event_assignments"("event_id","user_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "revoked_qr_codes" ADD CONSTRAINT "fk_revoked_qr_codes_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "revoked_qr_codes" ADD CONSTRAINT "fk_revoked_qr_codes_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "session_access" ADD CONSTRAINT "fk_session_access_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "session_access" ADD CONSTRAINT "fk_session_access_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "session_access" ADD CONSTRAINT "fk_session_access_session_id" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "session_access" DROP CONSTRAINT "fk_session_access_session_id"`);
    await queryRunner.query(`ALTER TABLE "session_access" DROP CONSTRAINT "fk_session_access_participant_id"`);
    await queryRunner.query(`ALTER TABLE "session_access" DROP CONSTRAINT "fk_session_access_event_id"`);
    await queryRunner.query(`ALTER TABLE "revoked_qr_codes" DROP CONSTRAINT "fk_revoked_qr_codes_participant_id"`);
    await queryRunner.query(`ALTER TABLE "revoked_qr_codes" DROP CONSTRAINT "fk_revoked_qr_codes_event_id"`);
    await queryRunner.query(`ALTER TABLE "participants" DROP CONSTRAINT "fk_participants_event_id_user_id"`);
    await queryRunner.query(`ALTER TABLE "participants" DROP CONSTRAINT "fk_participants_user_id"`);
    await queryRunner.query(`ALTER TABLE "participants" DROP CONSTRAINT "fk_participants_event_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "chk_sessions_seats"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "seats_taken"`);
    await queryRunner.query(`DROP INDEX "public"."uq_session_access_event_session_participant"`);
    await queryRunner.query(`DROP INDEX "public"."idx_session_access_event_id_participant_id"`);
    await queryRunner.query(`DROP TABLE "session_access"`);
    await queryRunner.query(`DROP INDEX "public"."uq_revoked_qr_codes_event_qr_hash"`);
    await queryRunner.query(`DROP INDEX "public"."idx_revoked_qr_codes_event_id_participant_id"`);
    await queryRunner.query(`DROP TABLE "revoked_qr_codes"`);
    await queryRunner.query(`DROP INDEX "public"."uq_participants_event_user"`);
    await queryRunner.query(`DROP INDEX "public"."uq_participants_event_badge_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_participants_event_qr_hash"`);
    await queryRunner.query(`DROP TABLE "participants"`);
  }
}
