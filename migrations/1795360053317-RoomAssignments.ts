import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RoomAssignments1795360053317 implements MigrationInterface {
  name = 'RoomAssignments1795360053317';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "room_assignments" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "room_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" character varying(32) NOT NULL, "start_time" TIMESTAMP WITH TIME ZONE NOT NULL, "end_time" TIMESTAMP WITH TIME ZONE NOT NULL, "is_active" boolean NOT NULL DEFAULT true, "assigned_by_id" uuid, CONSTRAINT "chk_room_assignments_role" CHECK ("role" IN ('gestionnaire_des_salles', 'controlleur_des_badges')), CONSTRAINT "chk_room_assignments_times" CHECK ("end_time" > "start_time"), CONSTRAINT "pk_room_assignments" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_assignments_event_id_user_id" ON "room_assignments" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_assignments_event_id_room_id_start_time" ON "room_assignments" ("event_id", "room_id", "start_time")`,
    );
    await queryRunner.query(
      `ALTER TABLE "room_assignments" ADD CONSTRAINT "fk_room_assignments_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "room_assignments" ADD CONSTRAINT "fk_room_assignments_room_id" FOREIGN KEY ("room_id") REFERENCES "rooms"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "room_assignments" ADD CONSTRAINT "fk_room_assignments_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "room_assignments" ADD CONSTRAINT "fk_room_assignments_assigned_by_id" FOREIGN KEY ("assigned_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "room_assignments" DROP CONSTRAINT "fk_room_assignments_assigned_by_id"`);
    await queryRunner.query(`ALTER TABLE "room_assignments" DROP CONSTRAINT "fk_room_assignments_user_id"`);
    await queryRunner.query(`ALTER TABLE "room_assignments" DROP CONSTRAINT "fk_room_assignments_room_id"`);
    await queryRunner.query(`ALTER TABLE "room_assignments" DROP CONSTRAINT "fk_room_assignments_event_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_assignments_event_id_room_id_start_time"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_assignments_event_id_user_id"`);
    await queryRunner.query(`DROP TABLE "room_assignments"`);
  }
}
