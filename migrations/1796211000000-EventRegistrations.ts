import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Self-registration: one row per (event, user) with its status and waiting-list number; confirmed seats counted on the
 * event row (`registered_count`, never above `capacity`) and the event's waiting-list counter (`registration_seq`).
 */
export class EventRegistrations1796211000000 implements MigrationInterface {
  name = 'EventRegistrations1796211000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "event_registrations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "user_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "queue_number" integer NOT NULL, CONSTRAINT "chk_event_registrations_status" CHECK ("status" IN ('confirmed', 'waitlisted', 'cancelled')), CONSTRAINT "pk_event_registrations" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_event_registrations_user_id" ON "event_registrations" ("user_id")`);
    await queryRunner.query(
      `CREATE INDEX "idx_event_registrations_event_id_status_queue_number" ON "event_registrations" ("event_id", "status", "queue_number")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_event_registrations_event_user" ON "event_registrations" ("event_id", "user_id")`,
    );
    await queryRunner.query(`ALTER TABLE "events" ADD "registered_count" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "events" ADD "registration_seq" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `ALTER TABLE "events" ADD CONSTRAINT "chk_events_registered_count" CHECK ("registered_count" >= 0 AND ("capacity" IS NULL OR "registered_count" <= "capacity"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "event_registrations" ADD CONSTRAINT "fk_event_registrations_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "event_registrations" ADD CONSTRAINT "fk_event_registrations_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "event_registrations" DROP CONSTRAINT "fk_event_registrations_user_id"`);
    await queryRunner.query(`ALTER TABLE "event_registrations" DROP CONSTRAINT "fk_event_registrations_event_id"`);
    await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "chk_events_registered_count"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "registration_seq"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "registered_count"`);
    await queryRunner.query(`DROP INDEX "public"."uq_event_registrations_event_user"`);
    await queryRunner.query(`DROP INDEX "public"."idx_event_registrations_event_id_status_queue_number"`);
    await queryRunner.query(`DROP INDEX "public"."idx_event_registrations_user_id"`);
    await queryRunner.query(`DROP TABLE "event_registrations"`);
  }
}
