"""The adaptations the deploy tests make for moto, pinned: when a moto release learns what
is stubbed here, one of these fails, and the adaptation can go."""

from __future__ import annotations

from moto_adapt import BROKEN, _undeletable, for_moto, lacks_delete, unsupported


def test_what_moto_still_cannot_create_is_stubbed() -> None:
    for kind in (
        "AWS::RDS::DBCluster",
        "AWS::CloudWatch::Alarm",
        "AWS::EC2::NetworkAclEntry",
        "AWS::CertificateManager::Certificate",
        "AWS::S3::BucketPolicy",
        "Custom::SecureStringParameter",
    ):
        assert unsupported({"Type": kind}), kind
    assert {"AWS::RDS::DBInstance"} == BROKEN
    assert not unsupported({"Type": "AWS::EC2::VPC"})
    peering = {"Type": "AWS::EC2::VPCPeeringConnection", "Properties": {"PeerOwnerId": "2"}}
    assert unsupported(peering)
    assert not unsupported({"Type": "AWS::EC2::VPCPeeringConnection", "Properties": {}})


def test_what_moto_still_cannot_delete_is_filled_in() -> None:
    assert all(lacks_delete(cls) for cls in _undeletable())


def test_stubs_replace_every_read_of_a_stubbed_resource() -> None:
    template = {
        "Transform": "AWS::SecretsManager-2020-07-23",
        "Parameters": {"PeeringConnectionId": {"Type": "String"}},
        "Resources": {
            "Cluster": {"Type": "AWS::RDS::DBCluster", "DependsOn": ["Vpc"], "Properties": {}},
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Tags": [{"Key": "a", "Value": "b"}]}},
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "DisplayName": {"Fn::Sub": "${Cluster.Endpoint.Address}:${Cluster}"},
                    "TopicName": {"Fn::Sub": ["${X}", {"X": {"Ref": "Cluster"}}]},
                    "KmsMasterKeyId": {"Fn::GetAtt": "Cluster.Arn"},
                },
            },
            "Route": {
                "Type": "AWS::EC2::Route",
                "Properties": {"VpcPeeringConnectionId": {"Ref": "PeeringConnectionId"}},
            },
        },
        "Outputs": {"E": {"Value": {"Fn::GetAtt": ["Cluster", "Endpoint.Address"]}}},
    }
    adapted = for_moto(template)
    resources = adapted["Resources"]
    assert "Transform" not in adapted
    assert resources["Cluster"] == {"Type": "AWS::SNS::Topic", "DependsOn": ["Vpc"]}
    assert resources["Route"] == {"Type": "AWS::SNS::Topic"}
    assert resources["Vpc"] == template["Resources"]["Vpc"]
    assert resources["Key"]["Properties"] == {}
    topic = resources["Topic"]["Properties"]
    assert topic["DisplayName"] == {"Fn::Sub": "stub-Cluster-Endpoint.Address:stub-Cluster"}
    assert topic["TopicName"] == {"Fn::Sub": ["${X}", {"X": "stub-Cluster"}]}
    assert topic["KmsMasterKeyId"] == "stub-Cluster-Arn"
    assert adapted["Outputs"]["E"]["Value"] == "stub-Cluster-Endpoint.Address"


def test_attributes_moto_does_not_return_are_stubbed_in_outputs() -> None:
    zone = {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "example.com"}}
    names = {"Fn::Join": [",", {"Fn::GetAtt": ["Zone", "NameServers"]}]}
    template = {"Resources": {"Zone": zone}, "Outputs": {"Ns": {"Value": names}}}
    adapted = for_moto(template)
    assert adapted["Outputs"]["Ns"]["Value"] == {"Fn::Join": [",", ["stub-Zone-NameServers"]]}
