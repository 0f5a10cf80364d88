import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exhibitor leads: one row per (event, exhibitor, visitor) with its counters, notes and rating; every scan of a lead in
 * `exposant_scan_visits` (for visits today and by hour); and the visitor's consent to show their email to exhibitors.
 */
export class ExhibitorLeads1796210000000 implements MigrationInterface {
  name = 'ExhibitorLeads1796210000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "exposant_scans" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "exposant_user_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "scan_count" integer NOT NULL DEFAULT '1', "first_scanned_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_scanned_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "notes" text, "rating" smallint, CONSTRAINT "uq_exposant_scans_event_exposant_participant" UNIQUE ("event_id", "exposant_user_id", "participant_id"), CONSTRAINT "chk_exposant_scans_notes" CHECK (char_length("notes") <= 2000), CONSTRAINT "chk_exposant_scans_scanned_at" CHECK ("last_scanned_at" >= "first_scanned_at"), CONSTRAINT "chk_exposant_scans_scan_count" CHECK ("scan_count" >= 1), CONSTRAINT "chk_exposant_scans_rating" CHECK ("rating" IS NULL OR "rating" BETWEEN 0 AND 5), CONSTRAINT "pk_exposant_scans" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_exposant_scans_event_id_participant_id" ON "exposant_scans" ("event_id", "participant_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "exposant_scan_visits" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "scan_id" uuid NOT NULL, "scanned_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_exposant_scan_visits" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_exposant_scan_visits_event_id_scan_id_scanned_at" ON "exposant_scan_visits" ("event_id", "scan_id", "scanned_at")`,
    );
    await queryRunner.query(
      `ALTER TABLE "participants" ADD "share_contact_with_exhibitors" boolean NOT NULL DEFAULT false`,
    );
    await queryRunner.query(
      `ALTER TABLE "exposant_scans" ADD CONSTRAINT "fk_exposant_scans_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "exposant_scans" ADD CONSTRAINT "fk_exposant_scans_event_id_exposant_user_id" FOREIGN KEY ("event_id", "exposant_user_id") REFERENCES "user_event_assignments"("event_id","user_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "exposant_scans" ADD CONSTRAINT "fk_exposant_scans_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "exposant_scan_visits" ADD CONSTRAINT "fk_exposant_scan_visits_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "exposant_scan_visits" ADD CONSTRAINT "fk_exposant_scan_visits_scan_id" FOREIGN KEY ("scan_id") REFERENCES "exposant_scans"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "exposant_scan_visits" DROP CONSTRAINT "fk_exposant_scan_visits_scan_id"`);
    await queryRunner.query(`ALTER TABLE "exposant_scan_visits" DROP CONSTRAINT "fk_exposant_scan_visits_event_id"`);
    await queryRunner.query(`ALTER TABLE "exposant_scans" DROP CONSTRAINT "fk_exposant_scans_participant_id"`);
    await queryRunner.query(
      `ALTER TABLE "exposant_scans" DROP CONSTRAINT "fk_exposant_scans_event_id_exposant_user_id"`,
    );
    await queryRunner.query(`ALTER TABLE "exposant_scans" DROP CONSTRAINT "fk_exposant_scans_event_id"`);
    await queryRunner.query(`ALTER TABLE "participants" DROP COLUMN "share_contact_with_exhibitors"`);
    await queryRunner.query(`DROP INDEX "public"."idx_exposant_scan_visits_event_id_scan_id_scanned_at"`);
    await queryRunner.query(`DROP TABLE "exposant_scan_visits"`);
    await queryRunner.query(`DROP INDEX "public"."idx_exposant_scans_event_id_participant_id"`);
    await queryRunner.query(`DROP TABLE "exposant_scans"`);
  }
}
