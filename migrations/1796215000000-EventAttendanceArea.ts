import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Self attendance within an area: event coordinates and radius, and the distance kept on the record (issue 7). */
export class EventAttendanceArea1796215000000 implements MigrationInterface {
  name = 'EventAttendanceArea1796215000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" ADD "latitude" numeric(9,6)`);
    await queryRunner.query(`ALTER TABLE "events" ADD "longitude" numeric(9,6)`);
    await queryRunner.query(`ALTER TABLE "events" ADD "attendance_radius" integer`);
    await queryRunner.query(`ALTER TABLE "attendances" ADD "distance_m" integer`);
    await queryRunner.query(
      `ALTER TABLE "events" ADD CONSTRAINT "chk_events_attendance_radius" CHECK ("attendance_radius" IS NULL OR "attendance_radius" > 0)`,
    );
    await queryRunner.query(
      `ALTER TABLE "events" ADD CONSTRAINT "chk_events_coordinates" CHECK (("latitude" IS NULL) = ("longitude" IS NULL) AND ("attendance_radius" IS NULL OR "latitude" IS NOT NULL))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "chk_events_coordinates"`);
    await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "chk_events_attendance_radius"`);
    await queryRunner.query(`ALTER TABLE "attendances" DROP COLUMN "distance_m"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "attendance_radius"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "longitude"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "latitude"`);
  }
}
