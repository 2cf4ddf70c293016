import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * A boot resource, as MAAS has it: an image named `<os>/<series>` (debian/bookworm) for one
 * architecture (`amd64/generic`), synced from a mirror (rtype 0) or uploaded by an operator
 * (rtype 1). Its files are in its sets (one set per version); the bytes are content-addressed
 * in `boot_resource_contents`, shared by every file with the same sha256.
 */
@Entity('boot_resources')
@Index(['name', 'architecture'], { unique: true })
export class BootResourceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  /** 0 synced, 1 uploaded, 2 generated (MAAS's BOOT_RESOURCE_TYPE). */
  @Column({ type: 'smallint' }) rtype!: number;
  @Column({ type: 'varchar', length: 255 }) name!: string;
  @Column({ type: 'varchar', length: 255 }) architecture!: string;
  /** title, subarches, kernel ... : shown in the resource's JSON as MAAS's `extra`. */
  @Column({ type: 'jsonb', default: () => "'{}'" }) extra!: Record<string, string>;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}

/** One version of a resource (e.g. 20260101 or a build's inputs hash), with its files. */
@Entity('boot_resource_sets')
@Index(['resourceId', 'version'], { unique: true })
export class BootResourceSetEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'resource_id', type: 'int' }) resourceId!: number;
  @ManyToOne(() => BootResourceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'resource_id' }) resource?: BootResourceEntity;
  @Column({ type: 'varchar', length: 255 }) version!: string;
  @Column({ type: 'varchar', length: 255, default: 'uploaded' }) label!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}

/**
 * Stored bytes, content-addressed: `sha256` is set (and unique) once every byte is in and the
 * digest was checked; until then the row is an upload in progress (`stored` bytes so far).
 */
@Entity('boot_resource_contents')
export class BootResourceContentEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64, nullable: true }) sha256!: string | null;
  @Column({ type: 'bigint' }) size!: string;
  @Column({ type: 'bigint', default: 0 }) stored!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}

/** A piece of a content (a few MiB), at byte offset `start`. */
@Entity('boot_resource_chunks')
export class BootResourceChunkEntity {
  @PrimaryColumn({ name: 'content_id', type: 'int' }) contentId!: number;
  @ManyToOne(() => BootResourceContentEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'content_id' }) content?: BootResourceContentEntity;
  @PrimaryColumn({ type: 'bigint' }) start!: string;
  @Column({ type: 'bytea' }) data!: Buffer;
}

/** A file of a set (boot-kernel, boot-initrd, squashfs, root-tgz ...) and the bytes it names. */
@Entity('boot_resource_files')
@Index(['setId', 'filename'], { unique: true })
export class BootResourceFileEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'set_id', type: 'int' }) setId!: number;
  @ManyToOne(() => BootResourceSetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'set_id' }) set?: BootResourceSetEntity;
  @Column({ type: 'varchar', length: 255 }) filename!: string;
  @Column({ type: 'varchar', length: 64 }) filetype!: string;
  @Column({ type: 'varchar', length: 64 }) sha256!: string;
  @Column({ type: 'bigint' }) size!: string;
  /** The stored bytes (complete once the content has its sha256); null before the upload starts. */
  @Index() @Column({ name: 'content_id', type: 'int', nullable: true }) contentId!: number | null;
  @ManyToOne(() => BootResourceContentEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'content_id' }) content?: BootResourceContentEntity;
}
