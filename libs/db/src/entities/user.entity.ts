import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 150, unique: true }) username!: string;
  @Column({ type: 'varchar', length: 254, default: '' }) email!: string;
  /** scrypt$<salt-b64>$<hash-b64>, or '' when the user cannot log in with a password. */
  @Column({ name: 'password_hash', type: 'varchar', length: 256, default: '' }) passwordHash!: string;
  @Column({ name: 'is_admin', type: 'boolean', default: false }) isAdmin!: boolean;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  /** Internal users (metadata tokens, the region itself) never log in and are not listed. */
  @Column({ name: 'is_system', type: 'boolean', default: false }) isSystem!: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
