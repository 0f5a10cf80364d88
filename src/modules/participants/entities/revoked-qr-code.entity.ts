import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from '../../events/entities/event.entity';
import { Participant } from './participant.entity';

/** Hashes of QR texts replaced by a rotation: a door tells BADGE_REVOKED from BADGE_UNKNOWN with them. */
@Entity('revoked_qr_codes')
@Index('uq_revoked_qr_codes_event_qr_hash', ['eventId', 'qrHash'], { unique: true })
@Index('idx_revoked_qr_codes_event_id_participant_id', ['eventId', 'participantId'])
export class RevokedQrCode {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  participantId: string;

  @ManyToOne(() => Participant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'varchar', length: 64 })
  qrHash: string;

  @CreateDateColumn({ type: 'timestamptz' })
  revokedAt: Date;
}
