import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Code attendance: the secret of each session's rotating codes, and the guesses counted per participant (issue 7). */
export class AttendanceCodes1796213000000 implements MigrationInterface {
  name = 'AttendanceCodes1796213000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "attendance_code_attempts" ("session_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "event_id" uuid NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_attendance_code_attempts_attempts" CHECK ("attempts" >= 0), CONSTRAINT "pk_attendance_code_attempts" PRIMARY KEY ("session_id", "participant_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_attendance_code_attempts_event_id" ON "attendance_code_attempts" ("event_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "attendance_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "session_id" uuid NOT NULL, "secret" character varying(64) NOT NULL, "rotates_every" integer NOT NULL, "opened_by_id" uuid, "closed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "chk_attendance_codes_rotates_every" CHECK ("rotates_every" BETWEEN 30 AND 60), CONSTRAINT "pk_attendance_codes" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_attendance_codes_event_id" ON "attendance_codes" ("event_id")`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_attendance_codes_session_id" ON "attendance_codes" ("session_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendance_code_attempts" ADD CONSTRAINT "fk_attendance_code_attempts_session_id" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendance_code_attempts" ADD CONSTRAINT "fk_attendance_code_attempts_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendance_codes" ADD CONSTRAINT "fk_attendance_codes_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendance_codes" ADD CONSTRAINT "fk_attendance_codes_session_id" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "attendance_codes" DROP CONSTRAINT "fk_attendance_codes_session_id"`);
    await queryRunner.query(`ALTER TABLE "attendance_codes" DROP CONSTRAINT "fk_attendance_codes_event_id"`);
    await queryRunner.query(
      `ALTER TABLE "attendance_code_attempts" DROP CONSTRAINT "fk_attendance_code_attempts_participant_id"`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendance_code_attempts" DROP CONSTRAINT "fk_attendance_code_attempts_session_id"`,
    );
    await queryRunner.query(`DROP INDEX "public"."uq_attendance_codes_session_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_attendance_codes_event_id"`);
    await queryRunner.query(`DROP TABLE "attendance_codes"`);
    await queryRunner.query(`DROP INDEX "public"."idx_attendance_code_attempts_event_id"`);
    await queryRunner.query(`DROP TABLE "attendance_code_attempts"`);
  }
}
