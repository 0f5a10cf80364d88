import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Manual attendance: a note on the record, and the audit log of removed records (issue 7). */
export class ManualAttendance1796212000000 implements MigrationInterface {
  name = 'ManualAttendance1796212000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "attendance_removals" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "attendance_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "session_id" uuid, "method" character varying(16) NOT NULL, "attended_at" TIMESTAMP WITH TIME ZONE NOT NULL, "marked_by_id" uuid, "removed_by_id" uuid NOT NULL, "reason" text NOT NULL, "removed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_attendance_removals" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_attendance_removals_event_id_removed_at" ON "attendance_removals" ("event_id", "removed_at")`,
    );
    await queryRunner.query(`ALTER TABLE "attendances" ADD "note" text`);
    await queryRunner.query(
      `ALTER TABLE "attendance_removals" ADD CONSTRAINT "fk_attendance_removals_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "attendance_removals" DROP CONSTRAINT "fk_attendance_removals_event_id"`);
    await queryRunner.query(`ALTER TABLE "attendances" DROP COLUMN "note"`);
    await queryRunner.query(`DROP INDEX "public"."idx_attendance_removals_event_id_removed_at"`);
    await queryRunner.query(`DROP TABLE "attendance_removals"`);
  }
}
