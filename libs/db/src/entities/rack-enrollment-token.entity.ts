import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A one-time token an administrator issued for a new rack to enroll with. Only its SHA-256 is
 * kept; `usedBy` is the rack that spent it (a spent or expired token enrolls nothing).
 */
@Entity('rack_enrollment_tokens')
export class RackEnrollmentTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_rack_enrollment_tokens' }) tokenHash!: string;
  @Column({ type: 'timestamptz' }) expires!: Date;
  @Column({ name: 'used_by', type: 'varchar', length: 41, nullable: true }) usedBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
