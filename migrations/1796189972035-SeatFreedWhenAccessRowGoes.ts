import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A session access row that held a seat gives it back whenever it is deleted, also by a cascade (a participant who
 * leaves the event, a removed membership or badge): before, only `DELETE /api/session-access/{id}/` freed the seat and
 * every other deletion leaked it for good.
 */
export class SeatFreedWhenAccessRowGoes1796189972035 implements MigrationInterface {
  name = 'SeatFreedWhenAccessRowGoes1796189972035';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE FUNCTION "session_access_free_seat"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD."payment_status" IN ('pending', 'paid', 'free') THEN
           UPDATE "sessions" SET "seats_taken" = "seats_taken" - 1 WHERE "id" = OLD."session_id" AND "seats_taken" > 0;
         END IF;
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "trg_session_access_free_seat" AFTER DELETE ON "session_access" FOR EACH ROW EXECUTE FUNCTION "session_access_free_seat"()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "trg_session_access_free_seat" ON "session_access"`);
    await queryRunner.query(`DROP FUNCTION "session_access_free_seat"()`);
  }
}
