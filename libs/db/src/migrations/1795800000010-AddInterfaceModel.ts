import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A machine's network model as MAAS keeps it: interfaces gain their VLAN and per-type params, bonds,
 * bridges and VLAN interfaces name their parents (interface_relationships), and each interface's
 * configuration on subnets is a list of links (interface_links; a static link holds a sticky
 * static_ip_addresses row). A MAC is unique only among physical interfaces, since a bond, bridge or
 * VLAN interface shares its parent's.
 */
export class AddInterfaceModel1795800000010 implements MigrationInterface {
    name = 'AddInterfaceModel1795800000010'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_545dbb6b2e01c4fc4cbf8485a8"`);
        await queryRunner.query(`CREATE TABLE "interface_links" ("id" SERIAL NOT NULL, "interface_id" integer NOT NULL, "mode" character varying(16) NOT NULL, "subnet_id" integer, "static_ip_id" integer, "default_gateway" boolean NOT NULL DEFAULT false, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_905550aa8d687d1ee104a063142" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_df1854a5077dc775c11d371300" ON "interface_links"  ("interface_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_a5e43819b2e7a3be1c832a76a4" ON "interface_links"  ("subnet_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_076020624fd9a2031caf5612bf" ON "interface_links"  ("static_ip_id") `);
        await queryRunner.query(`CREATE TABLE "interface_relationships" ("id" SERIAL NOT NULL, "parent_id" integer NOT NULL, "child_id" integer NOT NULL, CONSTRAINT "PK_e345190a41bb5affd200c490318" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_eae1d772b065d795e061beb83b" ON "interface_relationships"  ("child_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_73fb30131da1b6e78d48bceabc" ON "interface_relationships"  ("parent_id", "child_id") `);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD "vlan_id" integer`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD "params" jsonb NOT NULL DEFAULT '{}'`);
        await queryRunner.query(`CREATE INDEX "IDX_545dbb6b2e01c4fc4cbf8485a8" ON "interfaces"  ("mac_address") `);
        await queryRunner.query(`CREATE INDEX "IDX_ebc2334bb4c35b43ea078a676b" ON "interfaces"  ("vlan_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_99fa2f8034bae99c0eda8d5055" ON "interfaces"  ("mac_address") WHERE "type" = 'physical'`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "FK_ebc2334bb4c35b43ea078a676bb" FOREIGN KEY ("vlan_id") REFERENCES "vlans"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interface_links" ADD CONSTRAINT "FK_df1854a5077dc775c11d371300d" FOREIGN KEY ("interface_id") REFERENCES "interfaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interface_links" ADD CONSTRAINT "FK_a5e43819b2e7a3be1c832a76a46" FOREIGN KEY ("subnet_id") REFERENCES "subnets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interface_links" ADD CONSTRAINT "FK_076020624fd9a2031caf5612bfb" FOREIGN KEY ("static_ip_id") REFERENCES "static_ip_addresses"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interface_relationships" ADD CONSTRAINT "FK_5057422865dcd33861265714d40" FOREIGN KEY ("parent_id") REFERENCES "interfaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interface_relationships" ADD CONSTRAINT "FK_eae1d772b065d795e061beb83bf" FOREIGN KEY ("child_id") REFERENCES "interfaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        // Links and parents are part of the machine's API document: changing them moves its render_rev
        // (the column naming the interface is the trigger's argument).
        await queryRunner.query(`
          CREATE FUNCTION kiln_interface_child_render_rev() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF TG_OP <> 'INSERT' THEN
              UPDATE machines SET render_rev = nextval('machine_render_rev_seq')
               WHERE id = (SELECT machine_id FROM interfaces WHERE id = (to_jsonb(OLD) ->> TG_ARGV[0])::int);
            END IF;
            IF TG_OP <> 'DELETE' THEN
              UPDATE machines SET render_rev = nextval('machine_render_rev_seq')
               WHERE id = (SELECT machine_id FROM interfaces WHERE id = (to_jsonb(NEW) ->> TG_ARGV[0])::int);
            END IF;
            RETURN NULL;
          END $$`);
        await queryRunner.query(`CREATE TRIGGER interface_links_render_rev AFTER INSERT OR UPDATE OR DELETE ON "interface_links" FOR EACH ROW EXECUTE FUNCTION kiln_interface_child_render_rev('interface_id')`);
        await queryRunner.query(`CREATE TRIGGER interface_relationships_render_rev AFTER INSERT OR UPDATE OR DELETE ON "interface_relationships" FOR EACH ROW EXECUTE FUNCTION kiln_interface_child_render_rev('child_id')`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER interface_relationships_render_rev ON "interface_relationships"`);
        await queryRunner.query(`DROP TRIGGER interface_links_render_rev ON "interface_links"`);
        await queryRunner.query(`DROP FUNCTION kiln_interface_child_render_rev()`);
        await queryRunner.query(`ALTER TABLE "interface_relationships" DROP CONSTRAINT "FK_eae1d772b065d795e061beb83bf"`);
        await queryRunner.query(`ALTER TABLE "interface_relationships" DROP CONSTRAINT "FK_5057422865dcd33861265714d40"`);
        await queryRunner.query(`ALTER TABLE "interface_links" DROP CONSTRAINT "FK_076020624fd9a2031caf5612bfb"`);
        await queryRunner.query(`ALTER TABLE "interface_links" DROP CONSTRAINT "FK_a5e43819b2e7a3be1c832a76a46"`);
        await queryRunner.query(`ALTER TABLE "interface_links" DROP CONSTRAINT "FK_df1854a5077dc775c11d371300d"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "FK_ebc2334bb4c35b43ea078a676bb"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_99fa2f8034bae99c0eda8d5055"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_ebc2334bb4c35b43ea078a676b"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_545dbb6b2e01c4fc4cbf8485a8"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP COLUMN "params"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP COLUMN "vlan_id"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_73fb30131da1b6e78d48bceabc"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_eae1d772b065d795e061beb83b"`);
        await queryRunner.query(`DROP TABLE "interface_relationships"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_076020624fd9a2031caf5612bf"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_a5e43819b2e7a3be1c832a76a4"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_df1854a5077dc775c11d371300"`);
        await queryRunner.query(`DROP TABLE "interface_links"`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_545dbb6b2e01c4fc4cbf8485a8" ON "interfaces" USING btree ("mac_address") `);
    }

}
