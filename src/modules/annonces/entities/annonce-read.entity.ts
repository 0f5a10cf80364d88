import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/entities/user.entity';
import { Annonce } from './annonce.entity';

/** A read receipt: one per (annonce, user). */
@Entity('annonce_reads')
@Index('idx_annonce_reads_event_id_user_id', ['eventId', 'userId'])
export class AnnonceRead {
  @PrimaryColumn({ type: 'uuid' })
  annonceId: string;

  @ManyToOne(() => Annonce, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'annonce_id' })
  annonce?: Annonce;

  @PrimaryColumn({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'uuid' })
  eventId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  readAt: Date;
}
